@testable import HopGateEdge
import NIOHTTP1
import Testing

/// The edge refuses an HTTP/1.1 request unless it has exactly one `Host` field, and refuses a
/// `Transfer-Encoding` other than `chunked`; both names match in any case and nothing else.
@Suite("Host field count")
struct HostFieldCountTests {
    private func problem(_ fields: [(String, String)], target: String = "/") -> HTTPResponseStatus? {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: HTTPHeaders(fields))
        return HTTP1RequestHeadGuard(limits: HTTP1RequestLimits()).problem(with: &head)
    }

    @Test(arguments: [
        ([("Host", "a")], 1),
        ([("host", "a"), ("Accept", "*/*")], 1),
        ([("HOST", "a"), ("hOsT", "b")], 2),
        ([("Hosts", "a"), ("Hos", "b"), ("Ghost", "c"), ("X-Host", "d"), ("hosT ", "e")], 0),
        ([], 0),
    ] as [([(String, String)], Int)])
    func counts(fields: [(String, String)], expected: Int) {
        #expect(problem(fields) == (expected == 1 ? nil : .badRequest))
    }

    @Test("a name that differs from host only in bit 5 of a non-letter is not host")
    func nonLetters() {
        // 0x48 'H' | 0x20 is 'h'; no other byte but 'H' and 'h' gives 'h', and so on.
        let lookalikes = ["(ost", "H/st", "Ho3t", "Hos4", "\u{8}ost"]
        for name in lookalikes {
            #expect(!HTTP1RequestHeadGuard.isHost(name), "\(name)")
            #expect(problem([("Host", "a"), (name, "x")]) == nil, "\(name)")
        }
    }

    @Test("an absolute-form target's authority replaces every Host field")
    func absoluteForm() {
        #expect(problem([("Host", "a"), ("Host", "b")], target: "http://c.example/") == nil)
        #expect(problem([], target: "https://c.example/x") == nil)
    }

    @Test("Transfer-Encoding is found in any case, a lookalike is not")
    func transferEncoding() {
        #expect(problem([("Host", "a"), ("TRANSFER-ENCODING", "gzip")]) == .notImplemented)
        #expect(problem([("Host", "a"), ("transfer-encoding", " Chunked ")]) == nil)
        #expect(problem([("Host", "a"), ("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]) == .notImplemented)
        // '\r' | 0x20 is '-', '_' is not '-': neither is Transfer-Encoding.
        #expect(problem([("Host", "a"), ("Transfer\rEncoding", "gzip")]) == nil)
        #expect(problem([("Host", "a"), ("Transfer_Encoding", "gzip")]) == nil)
    }
}
