import HopGateDomain
import Testing

@Suite("PeerAddress")
struct PeerAddressTests {
    @Test(arguments: [
        ("ipv4:192.0.2.1:5000", "192.0.2.1", 5000), ("ipv6:[2001:db8::1]:443", "2001:db8::1", 443), ("[::1]:80", "::1", 80),
        ("192.0.2.1:5000", "192.0.2.1", 5000), ("192.0.2.1", "192.0.2.1", nil), ("2001:db8::2", "2001:db8::2", nil),
        ("ipv6:[::ffff:192.0.2.3]:1", "192.0.2.3", 1), ("in-process:x", "in-process:x", nil),
    ] as [(String, String, Int?)])
    func grpcPeers(peer: String, address: String, port: Int?) {
        let parsed = PeerAddress(grpcPeer: peer)
        #expect(parsed.address == address)
        #expect(parsed.port == port)
    }

    @Test func descriptionBracketsIPv6WithAPort() {
        #expect(PeerAddress(address: "2001:db8::1", port: 54321).description == "[2001:db8::1]:54321")
        #expect(PeerAddress(address: "192.0.2.1", port: 80).description == "192.0.2.1:80")
        #expect(PeerAddress(address: "::1").description == "::1")
        #expect(PeerAddress(address: "::1").isLoopback && PeerAddress(address: "127.0.0.2").isLoopback)
        #expect(!PeerAddress(address: "192.0.2.1").isLoopback)
    }
}
