import HopGateDomain
import Testing

@Suite("DomainTunnelSet: the rule for several tunnels of one domain")
struct DomainTunnelSetTests {
    @Test func poolAddsTunnels() {
        var set = DomainTunnelSet<Int>(policy: .pool(maximum: 3))
        #expect(set.admit(1) == .admitted(replacing: []))
        #expect(set.admit(2) == .admitted(replacing: []))
        #expect(set.active == [1, 2])
    }

    @Test func poolRefusesBeyondItsMaximum() {
        var set = DomainTunnelSet<Int>(policy: .pool(maximum: 2))
        _ = set.admit(1)
        _ = set.admit(2)
        #expect(set.admit(3) == .refusedTooMany(maximum: 2))
        #expect(set.active == [1, 2])
    }

    @Test func failoverWhenATunnelGoes() {
        var set = DomainTunnelSet<Int>()
        _ = set.admit(1)
        _ = set.admit(2)
        set.remove(1)
        #expect(set.active == [2])
        set.remove(2)
        #expect(set.active.isEmpty)
        #expect(set.isEmpty)
    }

    @Test func drainingTunnelsGetNoNewRequests() {
        var set = DomainTunnelSet<Int>()
        _ = set.admit(1)
        _ = set.admit(2)
        _ = set.admit(3)
        set.startDraining(2)
        #expect(set.active == [1, 3])
        #expect(set.draining == [2])
        #expect(!set.isEmpty)
        set.remove(2)
        #expect(set.draining.isEmpty)
    }

    @Test func replacePolicyDrainsOlderTunnels() {
        var set = DomainTunnelSet<Int>(policy: .replace)
        #expect(set.admit(1) == .admitted(replacing: []))
        #expect(set.admit(2) == .admitted(replacing: [1]))
        #expect(set.active == [2])
        #expect(set.draining == [1])
    }

    @Test func defaultPolicyIsAPoolOfEight() {
        #expect(TunnelAdmissionPolicy.default == .pool(maximum: 8))
        var set = DomainTunnelSet<Int>()
        for id in 0..<8 { #expect(set.admit(id) == .admitted(replacing: [])) }
        #expect(set.admit(8) == .refusedTooMany(maximum: 8))
    }
}
