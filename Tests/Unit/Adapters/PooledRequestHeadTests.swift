import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP1
import Testing

@testable import HopGateLocalForwarder

/// The head a pooled connection sends its local service, written straight from HTTP types,
/// is byte for byte the one NIO's types made: ``DirectHTTP1Forwarder/requestHead(_:target:upgrading:)``,
/// the pooled exchange's framing, then ``HTTP1RequestEncoder`` (itself checked against NIO's
/// encoder in `HTTP1RequestEncoderTests`).
@Suite("Local forwarder: a pooled request's head from HTTP types")
struct PooledRequestHeadTests {
    static let target = LocalTarget(host: "127.0.0.1", port: 8080)

    static func head(_ method: HTTPRequest.Method, _ path: String? = "/", authority: String? = "app.example", _ fields: [(String, String)] = []) -> ExchangeRequestHead {
        var headerFields = HTTPFields()
        for (name, value) in fields { headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return ExchangeRequestHead(
            request: HTTPRequest(method: method, scheme: "https", authority: authority, path: path, headerFields: headerFields),
            requestID: "id")
    }

    static let heads: [ExchangeRequestHead] = [
        head(.get),
        head(.get, "/a/b?c=d&e", [("User-Agent", "h2load"), ("Accept", "*/*"), ("X-Forwarded-For", "203.0.113.7"), ("X-Request-Id", "r1")]),
        head(.get, "/", authority: nil, [("host", "evil.example"), ("Accept", "*/*")]),
        head(.get, "/", [("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "x"),
                         ("TE", "gzip"), ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("X-After", "1")]),
        head(.post, "/upload", [("Content-Type", "text/plain")]),
        head(.post, "/", [("content-length", "5"), ("X-A", "b")]),
        head(.post, "/", [("Content-Length", "0")]),
        head(.put, "/", [("Content-Length", "-1"), ("X-A", "b")]),
        head(.patch, "/", [("Content-Length", "abc")]),
        head(.post, "/", [("Content-Length", "5"), ("X-A", "b"), ("content-length", "5")]),
        head(.post, "/", [("Content-Length", "x"), ("Content-Length", "5")]),
        head(.put, "/", [("Content-Length", "+7")]),
        head(.trace, "/", [("Content-Length", "0")]),
        head(.trace, "/"),
        head(.head, "/x"),
        head(.options, "*"),
        head(.delete, "/x", [("X-Reason", "gone")]),
        head(HTTPRequest.Method("PURGE")!, "/cache?key=1"),
        head(.get, nil),
        head(.get, "/caf%C3%A9", [("X-Name", "caf\u{e9} \u{1F600}"), ("Empty", ""), ("X-Mixed-CASE", "v")]),
    ]

    /// What the exchange sent before: NIO's head, framed by the pooled exchange and the encoder.
    static func nioBytes(_ request: ExchangeRequestHead, firstPartIsBody: Bool) -> (ByteBuffer, chunked: Bool, method: HTTPMethod) {
        var head = DirectHTTP1Forwarder.requestHead(request, target: target, upgrading: false)
        let declaredLength = head.headers.first(name: "content-length").flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
        if declaredLength == nil { head.headers.remove(name: "content-length") }
        if declaredLength == nil {
            if firstPartIsBody {
                head.headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                switch head.method {
                case .POST, .PUT, .PATCH: head.headers.add(name: "Content-Length", value: "0")
                default: break
                }
            }
        }
        let chunked = HTTP1RequestEncoder.frame(&head)
        return (HTTP1RequestEncoder.bytes(of: head, allocator: ByteBufferAllocator()), chunked, head.method)
    }

    @Test("the same bytes, framing and method as through NIO's head", arguments: heads.indices, [false, true])
    func sameAsNIO(index: Int, firstPartIsBody: Bool) {
        let request = Self.heads[index]
        var ours = PooledRequestHead(request, target: Self.target)
        let hasBody = ours.declaredLength.map { $0 > 0 } ?? firstPartIsBody
        let chunked = ours.frame(hasBody: hasBody)
        let bytes = ours.bytes(allocator: ByteBufferAllocator())
        let nio = Self.nioBytes(request, firstPartIsBody: firstPartIsBody)
        #expect(String(buffer: bytes) == String(buffer: nio.0))
        #expect(bytes == nio.0)
        #expect(chunked == nio.chunked)
        #expect(ours.method == nio.method)
    }

    @Test("a head is its request line, Host first, the kept fields in order, and an empty line")
    func exactBytes() {
        var ours = PooledRequestHead(
            Self.head(.post, "/up", [("Accept", "*/*"), ("Host", "other"), ("Connection", "close"), ("X-B", "2")]), target: Self.target)
        #expect(ours.declaredLength == nil)
        let chunked = ours.frame(hasBody: true)
        #expect(chunked)
        #expect(String(buffer: ours.bytes(allocator: ByteBufferAllocator()))
            == "POST /up HTTP/1.1\r\nHost: app.example\r\nAccept: */*\r\nX-B: 2\r\ntransfer-encoding: chunked\r\n\r\n")
    }
}
