/// The hop-by-hop header fields (RFC 9110 §7.6.1) that never cross a proxy.
enum HopByHop {
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    static func isHopByHop(_ name: String) -> Bool { names.contains(name.lowercased()) }
    static func isHopByHop(_ name: some CustomStringConvertible) -> Bool { isHopByHop(name.description) }
}
