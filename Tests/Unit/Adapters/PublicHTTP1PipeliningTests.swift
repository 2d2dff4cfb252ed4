@testable import HopGateEdge
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

/// A public HTTP/1.1 connection's reader and handler (``HTTP1RequestReader``,
/// ``PublicHTTP1Handler``): pipelined requests wait for the response in flight, a graceful
/// shutdown closes after it, malformed input behind it is answered in order, and the bytes after
/// an upgrade request reach the upgraded connection.
@Suite("Public HTTP/1.1 pipelining")
struct PublicHTTP1PipeliningTests {
    @Test("a pipelined request, and a read from above, wait until the response in flight ends")
    func pipelinedRequestWaits() throws {
        let (channel, reads) = try connection()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(bytes("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(try paths(channel) == ["/a", "end"], "the second request waits")
        let readsBefore = reads.count
        channel.pipeline.read()
        #expect(reads.count == readsBefore, "the read waits with it")

        try respond(on: channel)
        #expect(try paths(channel) == ["/b", "end"], "the first response ended: the second request goes up")
        #expect(reads.count == readsBefore, "the second request is in flight: the read still waits")
        try respond(on: channel)
        #expect(reads.count == readsBefore + 1, "nothing is held any more: the read goes down")
        #expect(channel.isActive)
    }

    @Test("a graceful shutdown closes an idle connection at once")
    func quiesceIdle() throws {
        let (channel, _) = try connection()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive)
    }

    @Test("a graceful shutdown mid-request: the response says Connection: close, then the connection closes; what followed is dropped")
    func quiesceInFlight() throws {
        let (channel, _) = try connection()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(bytes("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(try paths(channel) == ["/a", "end"])
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "the response in flight finishes first")
        try respond(on: channel)
        let written = try output(channel)
        #expect(written.lowercased().contains("connection: close\r\n"), "\(written)")
        #expect(!channel.isActive)
        #expect(try paths(channel).isEmpty, "the pipelined request was dropped")
    }

    @Test("malformed input behind a pipelined request is answered after the response in flight, then the connection closes")
    func parseErrorWaitsItsTurn() throws {
        let (channel, _) = try connection()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(bytes("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: x\r\n\r\n"))
        #expect(try paths(channel) == ["/a", "end"])
        #expect(channel.isActive, "nothing is answered before the first response")
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "2"])))
        try channel.writeOutbound(HTTPResponsePart.body(ByteBuffer(string: "ok")))
        #expect(try output(channel).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        let written = try output(channel)
        #expect(written.hasPrefix("okHTTP/1.1 400 Bad Request\r\n") || written.contains("HTTP/1.1 400 Bad Request\r\n"), "\(written)")
        #expect(!channel.isActive)
        #expect(throws: HTTPParserError.self) { try channel.throwIfErrorCaught() }
    }

    @Test("after a 101 the bytes that followed the upgrade request reach the upgraded connection as they are")
    func upgradeForwardsLeftoverBytes() throws {
        let (channel, _) = try connection()
        defer { _ = try? channel.finish() }
        try channel.writeInbound(bytes(
            "GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nHELLO"))
        #expect(try paths(channel) == ["/ws", "end"])
        // Written and flushed apart, as the connection's task does: the flush of a
        // `writeAndFlush` would start from the handler the switch removes.
        channel.write(HTTPResponsePart.head(HTTPResponse(
            status: .switchingProtocols, headerFields: [.connection: "Upgrade", .upgrade: "websocket"])), promise: nil)
        channel.flush()
        #expect(try output(channel).hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        guard case .body(let leftover)? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("the bytes after the upgrade request did not come through")
            return
        }
        #expect(String(buffer: leftover) == "HELLO")
        try channel.writeInbound(bytes("MORE"))
        guard case .body(let more)? = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("raw bytes after the switch did not come through")
            return
        }
        #expect(String(buffer: more) == "MORE")
    }

    // MARK: Helpers

    private func connection() throws -> (EmbeddedChannel, ReadCounter) {
        let channel = EmbeddedChannel()
        let reads = ReadCounter()
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(reads)
        try operations.addHandler(HTTP1RequestReader())
        try operations.addHandler(PublicHTTP1Handler(secure: true, requestHeadTimeout: .hours(1)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, reads)
    }

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// The request parts that went up, as their paths and "end".
    private func paths(_ channel: EmbeddedChannel) throws -> [String] {
        var seen: [String] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            switch part {
            case .head(let request): seen.append(request.path ?? "")
            case .body: seen.append("body")
            case .end: seen.append("end")
            }
        }
        return seen
    }

    private func respond(on channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "0"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
    }

    /// The bytes written since the last call.
    private func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            text += String(buffer: buffer)
        }
        return text
    }
}

/// The pipelining rules as a value.
@Suite("HTTP/1.1 pipelining rules")
struct HTTP1PipeliningRulesTests {
    @Test("a response that ends before its upload does holds nothing; the upload's end makes the connection idle")
    func earlyResponse() {
        var rules = HTTP1Pipelining()
        rules.requestHeadDelivered()
        let responseEnd = rules.responseEnded()
        #expect(responseEnd == .none)
        #expect(!rules.holdsInput)
        let requestEnd = rules.requestEndDelivered()
        #expect(requestEnd == .none)
        #expect(rules.exchange == .idle)
    }

    @Test("quiescing while an upload is still coming closes when it has been read, if its response already ended")
    func quiesceDuringUpload() {
        var rules = HTTP1Pipelining()
        rules.requestHeadDelivered()
        let quiesced = rules.quiesce()
        #expect(quiesced == .none)
        #expect(rules.closesAfterResponse)
        #expect(!rules.dropsInput, "the rest of the request is still read")
        let responseEnd = rules.responseEnded()
        #expect(responseEnd == .none)
        let requestEnd = rules.requestEndDelivered()
        #expect(requestEnd == .close)
        #expect(rules.dropsInput)
    }

    @Test("quiescing while the response is made closes after its end; reads are swallowed from then on")
    func quiesceDuringResponse() {
        var rules = HTTP1Pipelining()
        rules.requestHeadDelivered()
        _ = rules.requestEndDelivered()
        let quiesced = rules.quiesce()
        #expect(quiesced == .none)
        let readGoesDown = rules.readRequested()
        #expect(!readGoesDown)
        let responseEnd = rules.responseEnded()
        #expect(responseEnd == .closeAfterWrite)
        let released = rules.releasesHeldRead()
        #expect(!released)
    }

    @Test("a malformed request counts as one, so its answer may go out and what follows waits")
    func parseErrorCountsAsRequest() {
        var rules = HTTP1Pipelining()
        rules.parseErrorDelivered()
        #expect(rules.holdsInput)
        let readGoesDown = rules.readRequested()
        #expect(!readGoesDown)
        let responseEnd = rules.responseEnded()
        #expect(responseEnd == .none)
        let released = rules.releasesHeldRead()
        #expect(released)
    }
}
