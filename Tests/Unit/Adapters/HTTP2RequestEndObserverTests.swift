@testable import HopGateEdge
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

/// An HTTP/2 request whose HEADERS end the stream is known to have no body; one that goes on
/// (a body or trailers follow) is not, and every frame passes through unchanged.
@Suite("HTTP/2 request end observer")
struct HTTP2RequestEndObserverTests {
    func observe(_ frames: [HTTP2Frame.FramePayload]) throws -> (endsWithHead: Bool, passed: Int) {
        let end = HTTP2RequestEnd()
        let channel = EmbeddedChannel(handler: HTTP2RequestEndObserver(end))
        for frame in frames { try channel.writeInbound(frame) }
        var passed = 0
        while try channel.readInbound(as: HTTP2Frame.FramePayload.self) != nil { passed += 1 }
        _ = try channel.finish()
        return (end.endsWithHead, passed)
    }

    static let head: HPACKHeaders = [":method": "GET", ":scheme": "https", ":path": "/", ":authority": "a.example.com"]

    @Test func headersWithEndStreamMeanNoBody() throws {
        let seen = try observe([.headers(.init(headers: Self.head, endStream: true))])
        #expect(seen.endsWithHead)
        #expect(seen.passed == 1)
    }

    @Test func headersFollowedByDataOrTrailersMeanABody() throws {
        let seen = try observe([
            .headers(.init(headers: Self.head, endStream: false)),
            .data(.init(data: .byteBuffer(ByteBuffer(string: "x")), endStream: false)),
            .headers(.init(headers: ["x-trailer": "1"], endStream: true)),
        ])
        #expect(!seen.endsWithHead)
        #expect(seen.passed == 3)
    }
}
