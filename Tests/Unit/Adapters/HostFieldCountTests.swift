@testable import HopGateEdge
import NIOHTTP1
import Testing

/// The edge refuses an HTTP/1.1 request unless it has exactly one `Host` field; the count
/// matches the name in any case and nothing else.
@Suite("Host field count")
struct HostFieldCountTests {
    @Test(arguments: [
        ([("Host", "a")], 1),
        ([("host", "a"), ("Accept", "*/*")], 1),
        ([("HOST", "a"), ("hOsT", "b")], 2),
        ([("Hosts", "a"), ("Hos", "b"), ("Ghost", "c"), ("X-Host", "d"), ("hosT ", "e")], 0),
        ([], 0),
    ] as [([(String, String)], Int)])
    func counts(fields: [(String, String)], expected: Int) {
        #expect(HTTP1RequestHeadGuard.hostCount(HTTPHeaders(fields)) == expected)
    }

    @Test("a name that differs from host only in bit 5 of a non-letter is not host")
    func nonLetters() {
        // 0x48 'H' | 0x20 is 'h'; no other byte but 'H' and 'h' gives 'h', and so on.
        let lookalikes = ["(ost", "H/st", "Ho3t", "Hos4", "\u{8}ost"]
        for name in lookalikes {
            #expect(HTTP1RequestHeadGuard.hostCount(HTTPHeaders([(name, "x")])) == 0, "\(name)")
        }
    }
}
