@testable import HopGateEdge
import HTTPTypes
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Testing

/// The edge's HTTP/1.1 request heads, converted by its own codec, are exactly the requests the
/// library's `HTTPRequest(_:secure:splitCookie:)` makes — on the fast path (origin-form targets,
/// common field names) and off it.
@Suite("HTTPTypes server codec")
struct HTTPTypesServerCodecTests {
    static let heads: [(HTTPMethod, String, [(String, String)])] = [
        (.GET, "/1k.bin", [("Host", "bench.localhost:8443"), ("User-Agent", "wrk"), ("Accept", "*/*")]),
        (.POST, "/a/b?c=d&e", [("host", "x"), ("Content-Length", "3"), ("content-type", "text/plain")]),
        (.GET, "/", [("HOST", "first"), ("Host", "second"), ("X-Custom", "v")]),
        (.GET, "/x", [("Cookie", "a=1; b=2"), ("Host", "h"), ("cookie", "c=3")]),
        (.GET, "/x", [("Bad Name", "dropped"), ("Host", "h"), ("Good", "kept"), ("", "empty name")]),
        (.GET, "/no-host", [("Accept", "*/*")]),
        (.RAW(value: "PROPFIND"), "/dav/", [("Host", "h"), ("Depth", "1")]),
        (.PATCH, "//double/slash", [("Host", "h")]),
        (.GET, "/with space%zz", [("Host", "h")]),
        (.GET, "http://example.com/abs?q=1", [("Host", "ignored.example")]),
        (.OPTIONS, "*", [("Host", "h")]),
        (.GET, "https://example.com", [("Host", "h")]),
        (.GET, "/obs-text", [("Host", "h"), ("X-Latin", "caf\u{E9}"), ("X-Ctl", "a\u{1}b")]),
    ]

    @Test("the same request as the library's conversion", arguments: 0..<heads.count)
    func sameAsLibrary(index: Int) throws {
        let (method, uri, fields) = Self.heads[index]
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(fields))
        for secure in [true, false] {
            let ours = try HTTPTypesServerCodec.request(from: head, secure: secure)
            let library = try HTTPRequest(head, secure: secure, splitCookie: false)
            #expect(ours == library, "\(method) \(uri)")
            #expect(Array(ours.headerFields).map(\.name.rawName) == Array(library.headerFields).map(\.name.rawName))
        }
    }

    @Test("a method that is not a token is refused, as by the library")
    func invalidMethod() {
        let head = HTTPRequestHead(version: .http1_1, method: .RAW(value: "BAD METHOD"), uri: "/", headers: ["Host": "h"])
        #expect(throws: (any Error).self) { try HTTPTypesServerCodec.request(from: head, secure: true) }
        #expect(throws: (any Error).self) { try HTTPRequest(head, secure: true, splitCookie: false) }
    }
}
