@testable import HopGateLocalForwarder
import NIOCore
import NIOHTTP1
import Testing

/// The client's own HTTP/1.1 request encoder puts on the wire exactly what NIO's
/// `HTTPRequestEncoder` does, framing headers included, for every kind of request it may write.
@Suite("HTTP/1.1 request encoder")
struct HTTP1RequestEncoderTests {
    private static func head(
        _ method: HTTPMethod, _ uri: String = "/", version: HTTPVersion = .http1_1, _ fields: [(String, String)] = []
    ) -> HTTPClientRequestPart {
        .head(HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields)))
    }

    private static func body(_ text: String) -> HTTPClientRequestPart { .body(.byteBuffer(ByteBuffer(string: text))) }

    static let exchanges: [[HTTPClientRequestPart]] = [
        [head(.GET), .end(nil)],
        [head(.GET, "/a/b?c=d&e", [("Host", "app.example"), ("User-Agent", "curl/8"), ("Accept", "*/*"),
                                    ("X-Forwarded-For", "203.0.113.7"), ("X-Request-Id", "r1")]), .end(nil)],
        [head(.POST, "/upload", [("Host", "a")]), body("hello"), body(""), body(String(repeating: "x", count: 300)),
         .end(HTTPHeaders([("X-Checksum", "abc"), ("X-Other", "1")]))],
        [head(.POST, "/", [("Host", "a"), ("Content-Length", "5")]), body("hello"), .end(nil)],
        [head(.PUT, "/", [("Host", "a"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")]), body("hello"), .end(nil)],
        [head(.PATCH, "/", [("Host", "a"), ("transfer-encoding", "gzip")]), body("abc"), .end(nil)],
        [head(.TRACE, "/", [("Host", "a"), ("Content-Length", "0"), ("Transfer-Encoding", "chunked")]), .end(nil)],
        [head(.GET, "/", [("Host", "a"), ("Transfer-Encoding", "chunked")]), body("streamed"), .end(nil)],
        [head(.DELETE, "/x", [("Host", "a"), ("Transfer-Encoding", "gzip")]), body("raw"), .end(nil)],
        [head(.HEAD, "/x"), .end(nil)],
        [head(.OPTIONS, "*"), .end(nil)],
        [head(.RAW(value: "PURGE"), "/cache?key=1", [("Host", "a")]), .end(nil)],
        [head(.POST, "/", version: .http1_0, [("Host", "a")]), body("old"), .end(nil)],
        [head(.POST, "/", version: HTTPVersion(major: 2, minor: 0), [("Host", "a")]), body("odd"), .end(nil)],
        [head(.GET, "/caf\u{e9}", [("Host", "a"), ("X-Name", "caf\u{e9} \u{1F600}"), ("Empty", "")]), .end(nil)],
        // Two requests on one connection: the first's chunked coding does not carry over.
        [head(.POST, "/1", [("Host", "a")]), body("one"), .end(nil), head(.GET, "/2", [("Host", "a")]), .end(nil)],
    ]

    @Test("the same bytes as NIO's encoder", arguments: exchanges.indices)
    func sameBytes(index: Int) throws {
        let parts = Self.exchanges[index]
        let ours = try encodedBytes(parts, through: HTTP1RequestEncoder())
        let nio = try encodedBytes(parts, through: HTTPRequestEncoder())
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: nio, as: UTF8.self))
        #expect(ours == nio)
    }

    @Test("a head is its request line, field lines and an empty line")
    func headIsExact() {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/p", headers: HTTPHeaders([("Host", "a"), ("Accept", "*/*")]))
        #expect(!HTTP1RequestEncoder.frame(&head))
        let bytes = HTTP1RequestEncoder.bytes(of: head, allocator: ByteBufferAllocator())
        #expect(String(buffer: bytes) == "GET /p HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")
    }
}
