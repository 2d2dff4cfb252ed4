/// Why a tunnel session ended.
public enum TunnelCloseReason: String, Sendable, Hashable, CustomStringConvertible {
    /// The hello was refused (bad key, unknown domain, too many tunnels).
    case refused
    /// No hello arrived before the handshake deadline.
    case handshakeTimeout
    /// Nothing was heard from the peer within the heartbeat timeout.
    case heartbeatTimeout
    /// A drain completed: every in-flight exchange finished.
    case drained
    /// A drain's deadline passed with exchanges still in flight.
    case drainTimeout
    /// The transport went away (peer closed, connection reset).
    case transportClosed
    /// A newer tunnel for the same domain replaced this one.
    case replaced

    public var description: String { rawValue }
}
