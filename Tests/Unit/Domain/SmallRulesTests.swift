import HopGateDomain
import Testing

@Suite("One home per small rule")
struct SmallRulesTests {
    @Test(arguments: ["192.0.2.1", "0.0.0.0", "255.255.255.255", "127.0.0.1"])
    func ipv4Addresses(_ text: String) {
        #expect(IPAddressLiteral.isIPv4(text))
        #expect(IPAddressLiteral.isIPAddress(text))
    }

    @Test(arguments: ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "+1.2.3.4", "1.2.3.a", "0001.2.3.4", "", "example.com", "١.٢.٣.٤"])
    func notIPv4(_ text: String) {
        #expect(!IPAddressLiteral.isIPv4(text))
    }

    @Test(arguments: ["::1", "[::1]", "2001:db8::1", "fe80::1%eth0"])
    func ipv6Addresses(_ text: String) {
        #expect(IPAddressLiteral.isIPAddress(text))
        #expect(!IPAddressLiteral.isIPv4(text))
    }

    @Test func heartbeatDeathAfterThreeMissedBeats() {
        let interval = Duration.seconds(10)
        #expect(HeartbeatRule.timeout(forInterval: interval) == .seconds(30))
        #expect(!HeartbeatRule.isDead(silence: .seconds(29), interval: interval))
        #expect(HeartbeatRule.isDead(silence: .seconds(30), interval: interval))
        #expect(HeartbeatRule.isDead(silence: .seconds(31), interval: interval))
    }

    @Test(arguments: [([UInt8]("abc".utf8), [UInt8]("abc".utf8), true), ([UInt8]("abc".utf8), [UInt8]("abd".utf8), false),
                      ([UInt8]("abc".utf8), [UInt8]("abcd".utf8), false), ([], [], true), ([], [0], false)])
    func constantTimeEquality(_ lhs: [UInt8], _ rhs: [UInt8], _ equal: Bool) {
        #expect(ConstantTime.equal(lhs, rhs) == equal)
    }
}
