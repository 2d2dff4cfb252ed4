/// Where a connection comes from: an IP address (v4 or v6, written without brackets) and, when
/// known, its port.
///
/// Made once where the connection is accepted (from the socket's address at the public edge,
/// from the gRPC transport's peer description for a tunnel) and handed on as it is: the
/// forwarded headers, the authentication throttle and the per-address connection limit read
/// ``address`` and never parse a string again.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address: `192.0.2.1`, `2001:db8::1`. An IPv4 address mapped into IPv6
    /// (`::ffff:192.0.2.1`, as a dual-stack socket reports it) is kept in its IPv4 form.
    public let address: String
    /// The peer's port, when known.
    public let port: Int?

    /// A peer whose address is not known (a socket without an address, an in-process transport).
    public static let unknown = PeerAddress(address: "unknown")

    public init(address: String, port: Int? = nil) {
        let mappedPrefix = "::ffff:"
        if address.lowercased().hasPrefix(mappedPrefix), address.dropFirst(mappedPrefix.count).contains(".") {
            self.address = String(address.dropFirst(mappedPrefix.count))
        } else {
            self.address = address
        }
        self.port = port
    }

    /// An IPv6 address (its text has colons).
    public var isIPv6: Bool { address.contains(":") }

    /// This machine: `127.0.0.0/8` or `::1`.
    public var isLoopback: Bool { address == "::1" || address.hasPrefix("127.") }

    /// `192.0.2.1:5000`, `[2001:db8::1]:5000`, or the address alone without a port.
    public var description: String {
        guard let port else { return address }
        return isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
