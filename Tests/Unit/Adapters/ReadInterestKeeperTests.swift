@testable import HopGateEdge
import NIOCore
import NIOEmbedded
import HTTPTypes
import NIOHTTP1
import NIOHTTPTypes
import Testing

/// The handler that keeps a keep-alive connection's socket in epoll's read set while its
/// response is made (no `epoll_ctl` per request), reading at most once ahead per response.
@Suite("Read interest keeper")
struct ReadInterestKeeperTests {
    @Test("it reads once ahead when nothing above asks, again only after a response ends or a read comes from above")
    func readsAheadOncePerResponse() throws {
        let reads = ReadCounter()
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(reads)
        // The handler holds reads from above itself while a response is pending.
        try channel.pipeline.syncOperations.addHandler(PublicHTTP1Handler(secure: true, requestHeadTimeout: .hours(1)))

        func request() throws {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "example.com"])))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        try request()
        #expect(reads.count == 1, "the socket stays registered while the response is made")
        try request()  // a pipelined request used the read ahead
        #expect(reads.count == 1, "no second read ahead before a response ends")

        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        #expect(reads.count == 1)
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try request()
        #expect(reads.count == 2, "a response ended: one more read ahead")

        channel.pipeline.read()  // held while the response is pending: nothing reaches the socket
        #expect(reads.count == 2)
    }

    @Test("a read from above goes through, and data it brings does not add a read ahead of its own")
    func readsFromAboveGoThrough() throws {
        let reads = ReadCounter()
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(PublicHTTP1Handler(secure: true, requestHeadTimeout: .hours(1)))
        let above = ReadAsker()
        try channel.pipeline.syncOperations.addHandler(above)

        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["Host": "example.com"])))
        #expect(reads.count == 1, "asked for by the handler above while reading: no read ahead on top")
    }
}

/// Asks for more as soon as a part comes.
private final class ReadAsker: ChannelInboundHandler {
    typealias InboundIn = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.read()
    }
}
