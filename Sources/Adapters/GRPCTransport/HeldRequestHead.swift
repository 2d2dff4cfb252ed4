import HopGatePorts
import Synchronization

/// The head of a request known to have no body, held until its End is written so that both go
/// out together; taken by the first write of the exchange.
final class HeldRequestHead: Sendable {
    private let head: Mutex<ExchangeRequestHead?>

    init(_ head: ExchangeRequestHead) { self.head = Mutex(head) }

    /// The held head, the first time; nil after.
    func take() -> ExchangeRequestHead? {
        head.withLock { held in
            defer { held = nil }
            return held
        }
    }
}
