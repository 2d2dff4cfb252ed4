extension PeerAddress {
    /// Reads a gRPC transport's peer description: `ipv4:192.0.2.1:5000`, `ipv6:[2001:db8::1]:5000`
    /// (grpc-swift's form), or a bare address. Anything else (`unix:…`, `in-process:…`) becomes
    /// an address of that text without a port, so that it is still one key per peer.
    public init(grpcPeer peer: String) {
        var text = Substring(peer)
        for prefix in ["ipv4:", "ipv6:"] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let address = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            self.init(address: address, port: rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) {
            self.init(address: String(text[..<colon]), port: port)
        } else {
            self.init(address: String(text))
        }
    }
}
