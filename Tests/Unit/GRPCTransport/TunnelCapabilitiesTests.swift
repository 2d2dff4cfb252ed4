@testable import HopGateGRPCTransport
import Testing

@Suite("Tunnel capabilities")
struct TunnelCapabilitiesTests {
    @Test func theServerAcceptsWhatItKnowsInTheClientsOrderOnce() {
        #expect(TunnelCapabilities.accepted(from: []) == [])
        #expect(TunnelCapabilities.accepted(from: ["future-thing", "exchange-reuse", "exchange-reuse"]) == ["exchange-reuse"])
        #expect(TunnelCapabilities.accepted(from: ["EXCHANGE-REUSE"]) == [], "names are exact")
    }
}
