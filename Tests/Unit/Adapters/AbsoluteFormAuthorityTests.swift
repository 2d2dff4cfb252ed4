@testable import HopGateEdge
import Testing

/// The authority of an absolute-form request target (RFC 9112 §3.2.2), which replaces `Host`.
@Suite("Absolute-form request targets")
struct AbsoluteFormAuthorityTests {
    @Test(arguments: [
        ("http://example.com/a", "example.com"),
        ("HTTPS://Example.com:8443?q", "Example.com:8443"),
        ("hTtP://user:pw@example.com#f", "example.com"),
        ("https://", ""),
    ] as [(String, String)])
    func absoluteForm(target: String, authority: String) {
        #expect(HTTP1RequestHeadGuard.absoluteFormAuthority(target) == authority)
    }

    @Test("origin-form, asterisk-form and other targets have none", arguments: ["/", "/http://x", "*", "", "h", "hxxp://x/", "ftp://x/"])
    func notAbsoluteForm(target: String) {
        #expect(HTTP1RequestHeadGuard.absoluteFormAuthority(target) == nil)
    }
}
