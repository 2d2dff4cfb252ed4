@testable import HopGateEdge
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

/// The deadline for an HTTP/1.1 connection's next request head, kept without a timer per request.
@Suite("Request head deadline")
struct RequestHeadDeadlineTests {
    private let timeout = TimeAmount.seconds(10)

    @Test("a connection that sends no head is closed when the time is up, not before")
    func idleConnectionCloses() throws {
        let channel = try connection()
        channel.embeddedEventLoop.advanceTime(by: timeout - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("a request being answered holds the deadline off however long it takes")
    func openRequestHoldsTheDeadline() throws {
        let channel = try connection()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "example.com"])))
        channel.embeddedEventLoop.advanceTime(by: timeout * 5)
        #expect(channel.isActive)
    }

    @Test("each response's end starts the wait for the next head afresh, across many checks")
    func keepAliveRequestsMoveTheDeadline() throws {
        let channel = try connection()
        for _ in 0..<6 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(5))
            try request(on: channel)
            #expect(channel.isActive)
        }
        channel.embeddedEventLoop.advanceTime(by: timeout - .milliseconds(1))
        #expect(channel.isActive, "the last response ended less than the timeout ago")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    private func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(PublicHTTP1Handler(secure: true, requestHeadTimeout: timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func request(on channel: EmbeddedChannel) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "example.com"])))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        _ = try channel.readInbound(as: HTTPRequestPart.self)
        _ = try channel.readInbound(as: HTTPRequestPart.self)
    }
}
