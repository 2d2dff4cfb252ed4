import HTTPTypes
@testable import HopGateEdge
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Testing

/// The edge's own HTTP/1.1 response encoder puts on the wire exactly what NIO's
/// `HTTPResponseEncoder` (made on its own, as the edge's was) does, framing headers included.
@Suite("HTTP/1.1 response encoder")
struct HTTP1ResponseEncoderTests {
    private static func head(
        _ status: HTTPResponseStatus, version: HTTPVersion = .http1_1, _ fields: [(String, String)] = []
    ) -> HTTPServerResponsePart {
        .head(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields)))
    }

    private static func body(_ text: String) -> HTTPServerResponsePart { .body(.byteBuffer(ByteBuffer(string: text))) }

    static let exchanges: [[HTTPServerResponsePart]] = [
        [head(.ok, [("Content-Length", "5"), ("Content-Type", "text/plain")]), body("hello"), .end(nil)],
        [head(.ok, [("Date", "Sun, 06 Dec 2026 20:00:00 GMT"), ("Server", "x"), ("Vary", "Accept-Encoding"),
                    ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Request-Id", "r1")]),
         body("streamed"), body(""), body(String(repeating: "y", count: 4_100)), .end(HTTPHeaders([("Grpc-Status", "0")]))],
        [head(.ok, [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]), body("abc"), .end(nil)],
        [head(.ok, [("transfer-encoding", "gzip")]), body("abc"), .end(nil)],
        [head(.noContent, [("Content-Length", "0"), ("Transfer-Encoding", "chunked")]), .end(nil)],
        [head(.notModified, [("ETag", "\"x\""), ("Content-Length", "10")]), .end(nil)],
        [head(.continue), head(.ok, [("Content-Length", "2")]), body("ok"), .end(nil)],
        [head(.custom(code: 103, reasonPhrase: "Early Hints"), [("Link", "</a.css>; rel=preload")]),
         head(.created, [("Location", "/x")]), .end(nil)],
        [head(.switchingProtocols, [("Upgrade", "websocket"), ("Connection", "upgrade")]), body("raw")],
        [head(.custom(code: 299, reasonPhrase: "Odd Reason")), body("x"), .end(nil)],
        [head(.custom(code: 599, reasonPhrase: "")), .end(nil)],
        [head(.notFound, version: .http1_0, [("Connection", "close")]), body("gone"), .end(nil)],
        [head(.ok, version: HTTPVersion(major: 2, minor: 0)), body("odd"), .end(nil)],
        [head(.badGateway, [("X-Name", "caf\u{e9} \u{1F600}"), ("Empty", "")]), body("\u{e9}"), .end(nil)],
        // Two responses on one connection: the first's chunked coding does not carry over.
        [head(.ok), body("one"), .end(nil), head(.ok, [("Content-Length", "3")]), body("two"), .end(nil)],
    ] + [HTTPResponseStatus.ok, .partialContent, .movedPermanently, .badRequest, .unauthorized, .forbidden,
         .requestHeaderFieldsTooLarge, .uriTooLong, .notImplemented, .serviceUnavailable, .gatewayTimeout,
         .misdirectedRequest, .tooManyRequests, .networkAuthenticationRequired].map { [head($0, [("Content-Length", "0")]), .end(nil)] }

    @Test("the same bytes as NIO's encoder", arguments: exchanges.indices)
    func sameBytes(index: Int) throws {
        let parts = Self.exchanges[index]
        let ours = try encodedBytes(parts, through: EncoderHandler())
        let nio = try encodedBytes(parts, through: HTTPResponseEncoder())
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: nio, as: UTF8.self))
        #expect(ours == nio)
    }
}

/// The edge's encoder as a handler of its own, to be compared with NIO's.
private final class EncoderHandler: ChannelOutboundHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    private var encoder = HTTP1ResponseEncoder()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        encoder.write(unwrapOutboundIn(data), context: context, promise: promise)
    }
}

/// A head written straight from HTTPTypes' response (``HTTP1ResponseEncoder/writeHead(_:closing:context:promise:)``)
/// puts on the wire what NIO's encoder puts for the head NIOHTTPTypes makes of it — with
/// `connection: close` added as before when the connection closes after it — and frames the
/// body that follows the same way.
@Suite("HTTP/1.1 response heads from HTTPTypes")
struct HTTP1ResponseHeadFromHTTPTypesTests {
    private static func response(_ code: Int, _ reason: String = "", _ fields: [(String, String)] = []) -> HTTPResponse {
        var headerFields = HTTPFields()
        for (name, value) in fields { headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return HTTPResponse(status: .init(code: code, reasonPhrase: reason), headerFields: headerFields)
    }

    static let responses: [HTTPResponse] = [
        response(200, "OK", [("Content-Length", "5"), ("Content-Type", "text/plain")]),
        response(200, "Fine", [("Date", "Sun, 06 Dec 2026 20:00:00 GMT"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
        response(204, "No Content", [("Content-Length", "0"), ("X-Request-Id", "r1")]),
        response(304, "Not Modified", [("ETag", "\"x\""), ("Content-Length", "10")]),
        response(103, "Early Hints", [("Link", "</a.css>; rel=preload")]),
        response(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "upgrade")]),
        response(200, "OK", [("transfer-encoding", "gzip")]),
        response(200, "OK", [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]),
        response(200, "OK", [("Connection", "keep-alive"), ("Content-Length", "4")]),
        response(200, "OK", [("Connection", "close")]),
        response(299, "Odd Reason"),
        response(599, ""),
        response(502, "Bad Gateway", [("X-Name", "caf\u{e9} \u{1F600}"), ("Empty", ""), ("content-length", "1")]),
    ]

    @Test("the same bytes as NIO's encoder given NIOHTTPTypes' head", arguments: responses.indices, [false, true])
    func sameBytes(index: Int, closing: Bool) throws {
        let response = Self.responses[index]
        var head = HTTPResponseHead(response)
        if closing, head.isKeepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        let rest: [HTTPServerResponsePart] = [.body(.byteBuffer(ByteBuffer(string: "body"))), .end(nil)]
        let nio = try encodedBytes([HTTPServerResponsePart.head(head)] + rest, through: HTTPResponseEncoder())
        let ours = try encodedBytes(
            [HeadOrPart.head(response)] + rest.map(HeadOrPart.part), through: DirectHeadEncoderHandler(closing: closing))
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: nio, as: UTF8.self))
        #expect(ours == nio)
    }
}

private enum HeadOrPart: Sendable {
    case head(HTTPResponse)
    case part(HTTPServerResponsePart)
}

/// The edge's encoder writing heads from HTTPTypes' responses, as ``PublicHTTP1Handler`` does.
private final class DirectHeadEncoderHandler: ChannelOutboundHandler {
    typealias OutboundIn = HeadOrPart
    typealias OutboundOut = IOData

    private let closing: Bool
    private var encoder = HTTP1ResponseEncoder()

    init(closing: Bool) { self.closing = closing }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response): encoder.writeHead(response, closing: closing, context: context, promise: promise)
        case .part(let part): encoder.write(part, context: context, promise: promise)
        }
    }
}
