/// How many idle Exchange streams a tunnel client keeps open: a few on a tunnel that has not
/// been busy, growing by one with each request taken, up to what the server asks for.
///
/// A pure counter the client's pool calls on each event; each call says how many streams to
/// open now. An idle stream costs both ends memory (a parked HTTP/2 stream), and opening the
/// server's whole pool at once made 1,000 connecting clients slow. Growth follows requests, not
/// the client's own count of running exchanges: requests waiting at the edge for a stream are
/// not running yet, so that count stays low exactly when more streams are needed (measured:
/// half the throughput at 50 connections).
///
/// With reusable streams (`exchange-reuse`) a stream comes back idle after its exchange
/// (``streamReleased()``), so a busy tunnel settles at its peak concurrency plus the idle
/// target and opens nothing more; the server shrinks the pool of a quiet tunnel by retiring
/// idle streams (``streamRetired()``), down to ``defaultMinimumIdle``.
public struct ExchangePoolSizing: Sendable, Hashable {
    /// The idle streams a tunnel keeps when it has not been busy (the server retires idle
    /// streams down to this number).
    public static let defaultMinimumIdle = 2

    /// Idle streams kept on a tunnel that has not been busy.
    public let minimumIdle: Int
    /// The most idle streams ever kept (the server's `exchange_pool_size`).
    public let maximumIdle: Int
    /// The idle streams wanted now.
    public private(set) var target: Int
    /// Streams opened and not yet given a request, plus reused streams back from theirs.
    public private(set) var idle = 0

    public init(minimumIdle: Int = Self.defaultMinimumIdle, maximumIdle: Int) {
        self.maximumIdle = max(1, maximumIdle)
        self.minimumIdle = min(max(1, minimumIdle), self.maximumIdle)
        self.target = self.minimumIdle
    }

    /// The tunnel is up: how many streams to open.
    public mutating func start() -> Int { topUp() }

    /// An idle stream was given a request: how many streams to open (its replacement, and one
    /// more while the pool is below the maximum).
    public mutating func streamTaken() -> Int {
        idle = max(0, idle - 1)
        target = min(maximumIdle, target + 1)
        return topUp()
    }

    /// A reusable stream finished its exchange cleanly and is idle again. Nothing is opened.
    public mutating func streamReleased() {
        idle += 1
    }

    /// The server retired an idle stream because the tunnel was quiet: the pool shrinks with it
    /// (the target follows, never below the minimum). Returns how many streams to open, which
    /// is zero unless the server retired below the minimum.
    public mutating func streamRetired() -> Int {
        idle = max(0, idle - 1)
        target = max(minimumIdle, min(target, idle))
        return topUp()
    }

    private mutating func topUp() -> Int {
        let missing = max(0, target - idle)
        idle += missing
        return missing
    }
}
