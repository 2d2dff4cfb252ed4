import HTTPTypes
@testable import HopGateEdge
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing

/// The public side's request parts in and response parts out (``WebPartChannel``): parts in
/// order whether they came before or after the task asked, back-pressure on reading, the end
/// and the close.
@Suite("Web part channel")
struct WebPartChannelTests {
    /// Counts the reads that reach the socket end of the pipeline.
    final class ReadCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = Never
        let reads = Atomic(0)
        func read(context: ChannelHandlerContext) {
            reads.add(1, ordering: .relaxed)
            context.read()
        }
    }

    static func body(_ text: String) -> HTTPRequestPart { .body(ByteBuffer(string: text)) }

    static func text(_ part: HTTPRequestPart?) -> String? {
        guard case .body(let buffer)? = part else { return nil }
        return String(buffer: buffer)
    }

    func make() async throws -> (NIOAsyncTestingChannel, WebPartChannel, ReadCounter) {
        let counter = ReadCounter()
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(counter)
        let web = try await channel.eventLoop.submit { try WebPartChannel(wrappingSynchronously: channel) }.get()
        try await channel.connect(to: .init(ipAddress: "127.0.0.1", port: 80))
        return (channel, web, counter)
    }

    @Test("parts that came first and parts that come while the task waits arrive in order; the close ends the input")
    func order() async throws {
        let (channel, web, _) = try await make()
        try await channel.writeInbound(Self.body("a"))
        try await channel.writeInbound(Self.body("b"))
        #expect(Self.text(try await web.next()) == "a")
        #expect(Self.text(try await web.next()) == "b")
        async let waiting = web.next()
        try await Task.sleep(for: .milliseconds(20))
        try await channel.writeInbound(Self.body("c"))
        #expect(Self.text(try await waiting) == "c")
        try await channel.close()
        #expect(try await web.next() == nil)
    }

    @Test("reading stops while ten parts wait, and resumes once the task has taken them down to two")
    func backPressure() async throws {
        let (channel, web, counter) = try await make()
        for index in 0..<WebPartHandler.highWatermark { try await channel.writeInbound(Self.body("\(index)")) }
        let before = counter.reads.load(ordering: .relaxed)
        channel.pipeline.read()
        try await Task.sleep(for: .milliseconds(20))
        #expect(counter.reads.load(ordering: .relaxed) == before, "a read passed while the parts were full")
        for index in 0..<(WebPartHandler.highWatermark - WebPartHandler.lowWatermark) {
            #expect(Self.text(try await web.next()) == "\(index)")
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(counter.reads.load(ordering: .relaxed) == before + 1, "the held read went on")
    }

    @Test("response parts are written and flushed; a write after the close throws")
    func writes() async throws {
        let (channel, web, _) = try await make()
        try await web.write(contentsOf: [.head(HTTPResponse(status: .ok)), .end(nil)])
        guard case .head(let head)? = try await channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("expected the head")
            return
        }
        #expect(head.status == .ok)
        #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == .end(nil))
        try await channel.close()
        await #expect(throws: ChannelError.self) { try await web.write(.end(nil)) }
    }
}
