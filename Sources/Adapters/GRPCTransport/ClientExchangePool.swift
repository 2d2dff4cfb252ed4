import HopGateDomain
import Synchronization

/// The client's count of its Exchange streams (``ExchangePoolSizing``), shared by the tasks
/// of its streams: each tells it at once when its stream is taken, released or retired, and
/// learns how many streams to open. Only then is the task that opens streams woken, so that an
/// exchange on a settled pool wakes nobody.
final class ClientExchangePool: Sendable {
    private let sizing: Mutex<ExchangePoolSizing>

    init(maximumIdle: Int) {
        sizing = Mutex(ExchangePoolSizing(maximumIdle: maximumIdle))
    }

    /// The tunnel is up: how many streams to open.
    func start() -> Int { sizing.withLock { $0.start() } }

    /// A stream was given a request: how many streams to open.
    func streamTaken() -> Int { sizing.withLock { $0.streamTaken() } }

    /// A reusable stream finished its exchange cleanly and waits for the next.
    func streamReleased() { sizing.withLock { $0.streamReleased() } }

    /// The server retired an idle reusable stream: how many streams to open (normally none).
    func streamRetired() -> Int { sizing.withLock { $0.streamRetired() } }
}
