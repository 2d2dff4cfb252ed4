import Synchronization

/// The Head message of a request known to have no body, held until its End is written so that
/// both go out together; taken by the first write of the exchange.
final class HeldRequestHead: Sendable {
    private let message: Mutex<Hopgate_Tunnel_V1_ExchangeFromServer?>

    init(_ message: Hopgate_Tunnel_V1_ExchangeFromServer) { self.message = Mutex(message) }

    /// The held Head, the first time; nil after.
    func take() -> Hopgate_Tunnel_V1_ExchangeFromServer? {
        message.withLock { held in
            defer { held = nil }
            return held
        }
    }
}
