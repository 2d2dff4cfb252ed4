@testable import HopGateEdge
import HTTPTypes
import HopGatePorts
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
import Testing

/// A public HTTP/2 stream's frames become the same request parts, and response parts the same
/// frames, as through swift-nio-extras' `HTTP2FramePayloadToHTTPServerCodec` (which the codec
/// replaces); a malformed header block becomes a `PROTOCOL_ERROR` reset and an error, never a
/// request; whether the request ended with its head is noted.
@Suite("Public HTTP/2 stream codec")
struct PublicHTTP2StreamCodecTests {
    static let head: HPACKHeaders = [
        ":method": "POST", ":scheme": "https", ":authority": "a.example.com", ":path": "/up?x=1",
        "content-type": "text/plain", "user-agent": "h2load", "x-custom-field": "v a l", "te": "trailers",
    ]

    static func headers(_ block: HPACKHeaders, end: Bool = false) -> HTTP2Frame.FramePayload {
        .headers(.init(headers: block, endStream: end))
    }

    static func data(_ text: String, end: Bool = false) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(ByteBuffer(string: text)), endStream: end))
    }

    /// The parts each handler makes of `frames`, and what else happened on its channel.
    func received(_ frames: [HTTP2Frame.FramePayload], through handler: any ChannelHandler) throws -> (parts: [HTTPRequestPart], error: (any Error)?, written: [HTTP2Frame.FramePayload]) {
        let channel = EmbeddedChannel(handler: handler)
        var failure: (any Error)?
        for frame in frames {
            do { try channel.writeInbound(frame) } catch { failure = error }
        }
        var parts: [HTTPRequestPart] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) { parts.append(part) }
        var written: [HTTP2Frame.FramePayload] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { written.append(frame) }
        _ = try? channel.finish()
        return (parts, failure, written)
    }

    static let streams: [[HTTP2Frame.FramePayload]] = [
        [headers(head, end: true)],
        [headers(head), data("hello "), data("world", end: true)],
        [headers(head), data("x"), data("", end: true)],
        [headers(head), data(""), data("x"), headers(["x-checksum": "1", "grpc-status": "0"], end: true)],
        [headers([":method": "CONNECT", ":authority": "a.example.com:443"], end: false), data("bytes")],
        [headers(HPACKHeaders([(":method", "GET"), (":scheme", "http"), (":path", "/"), ("accept", "*/*"), ("cookie-odd", "x"), ("cookie", "a=1"), ("cookie", "b=2")]), end: true)],
    ]

    @Test(arguments: streams)
    func requestPartsAreNIOs(_ frames: [HTTP2Frame.FramePayload]) throws {
        let ours = try received(frames, through: PublicHTTP2StreamCodec(HTTP2RequestEnd()))
        let nios = try received(frames, through: HTTP2FramePayloadToHTTPServerCodec())
        #expect(ours.error == nil)
        #expect(ours.parts == nios.parts)
        #expect(ours.written.isEmpty)
        if case .head(let request) = ours.parts.first {
            // The indexing strategy and spelling travel too (HTTPField's == ignores neither).
            #expect(request.headerFields.map(\.name.rawName) == nios.parts.first.flatMap { if case .head(let r) = $0 { r.headerFields.map(\.name.rawName) } else { nil } })
        }
    }

    @Test func endWithHeadIsNoted() throws {
        let ended = HTTP2RequestEnd()
        _ = try received([Self.headers(Self.head, end: true)], through: PublicHTTP2StreamCodec(ended))
        #expect(ended.endsWithHead)
        let goesOn = HTTP2RequestEnd()
        _ = try received([Self.headers(Self.head), Self.data("x"), Self.headers(["x-t": "1"], end: true)], through: PublicHTTP2StreamCodec(goesOn))
        #expect(!goesOn.endsWithHead)
    }

    @Test(arguments: [
        [headers([":method": "GET", ":scheme": "https"], end: true)],
        [headers([":method": "GET", ":scheme": "https", ":path": "/", "connection": "close"], end: true)],
        [headers([":method": "GET", ":scheme": "https", ":path": "/", "x-a": "1\r\nx-b: 2"], end: true)],
        [headers(["x-first": "1", ":method": "GET", ":scheme": "https", ":path": "/"], end: true)],
        [headers(head), data("x"), headers([":status": "200"], end: true)],
        [headers(head), headers(["x-t": "1"], end: false)],
    ] as [[HTTP2Frame.FramePayload]])
    func malformedBlocksResetTheStream(_ frames: [HTTP2Frame.FramePayload]) throws {
        let ours = try received(frames, through: PublicHTTP2StreamCodec(HTTP2RequestEnd()))
        #expect(ours.error is HTTP2FieldBlockCheck.Problem, "\(String(describing: ours.error))")
        #expect(ours.written.count == 1)
        if case .rstStream(let code) = ours.written.first { #expect(code == .protocolError) } else { Issue.record("no reset: \(ours.written)") }
        #expect(!ours.parts.contains { if case .end = $0 { true } else { false } }, "a refused request never ends normally")
        if frames.count == 1 { #expect(ours.parts.isEmpty) }
    }

    /// The frames each handler writes for `parts`.
    func written(_ parts: [HTTPResponsePart], through handler: any ChannelHandler) throws -> [HTTP2Frame.FramePayload] {
        let channel = EmbeddedChannel(handler: handler)
        for part in parts { try channel.writeOutbound(part) }
        var frames: [HTTP2Frame.FramePayload] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) { frames.append(frame) }
        _ = try channel.finish()
        return frames
    }

    @Test func responseFramesAreNIOs() throws {
        var response = HTTPResponse(status: .ok)
        response.headerFields = [.contentType: "text/html", .init("X-Mixed-Case")!: "1", .setCookie: "a=b"]
        var secret = HTTPField(name: .authorization, value: "x")
        secret.indexingStrategy = .disallow
        response.headerFields.append(secret)
        let early = HTTPResponse(status: .earlyHints, headerFields: [HTTPField.Name("Link")!: "</a.css>; rel=preload"])
        for parts: [HTTPResponsePart] in [
            [.head(early), .head(response), .body(ByteBuffer(string: "body")), .end(nil)],
            [.head(response), .end([Self.name("x-checksum"): "1", Self.name("grpc-status"): "0"])],
            [.head(HTTPResponse(status: .noContent)), .end(nil)],
        ] {
            let ours = try written(parts, through: PublicHTTP2StreamCodec(HTTP2RequestEnd()))
            let nios = try written(parts, through: HTTP2FramePayloadToHTTPServerCodec())
            #expect(ours.count == nios.count)
            for (a, b) in zip(ours, nios) { #expect(Self.describe(a) == Self.describe(b)) }
        }
    }

    @Test func connectionSpecificTrailersAreDropped() throws {
        let frames = try written([.end([Self.name("x-checksum"): "1", .connection: "close", .transferEncoding: "chunked", .te: "trailers"])],
                                 through: PublicHTTP2StreamCodec(HTTP2RequestEnd()))
        guard case .headers(let trailers) = frames.first else { Issue.record("no trailers: \(frames)"); return }
        #expect(trailers.endStream)
        #expect(trailers.headers.map(\.name) == ["x-checksum"])
    }

    static func name(_ text: String) -> HTTPField.Name { HTTPField.Name(text)! }

    /// A frame's content, with each header's name, value and indexing.
    static func describe(_ frame: HTTP2Frame.FramePayload) -> String {
        switch frame {
        case .headers(let headers):
            "HEADERS end=\(headers.endStream) " + headers.headers.map { "\($0.name)=\($0.value)/\($0.indexable)" }.joined(separator: ",")
        case .data(let data):
            if case .byteBuffer(let buffer) = data.data { "DATA end=\(data.endStream) \(String(buffer: buffer))" } else { "DATA file" }
        default:
            "\(frame)"
        }
    }
}
