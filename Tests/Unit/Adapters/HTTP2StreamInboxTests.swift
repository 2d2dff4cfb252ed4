@testable import HopGateEdge
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

/// New HTTP/2 streams reach the connection's task in order, whether they came before it asked or
/// while it waited; once the connection is done (or its task cancelled) the task gets nil, and a
/// stream nobody will serve is closed rather than left open.
@Suite("HTTP/2 stream inbox")
struct HTTP2StreamInboxTests {
    /// A stream on an embedded channel of its own, and that channel. An embedded channel must be
    /// used on the thread that made it: the tests make and touch them on the inbox's loop.
    static func stream() throws -> (HTTP2WebStream, EmbeddedChannel) {
        let channel = EmbeddedChannel()
        return (HTTP2WebStream(channel: try WebPartChannel(wrappingSynchronously: channel), requestEnd: HTTP2RequestEnd()), channel)
    }

    @Test func streamsComeInOrderThenNilOnceFinished() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inbox = try await loop.submit { HTTP2StreamInbox(eventLoop: loop) }.get()  // made on its loop
        let (first, second) = try await loop.submit { (try Self.stream().0, try Self.stream().0) }.get()
        try await loop.submit { inbox.deliver(first) }.get()  // before the task asks
        #expect(await inbox.next()?.channel === first.channel)
        async let waited = inbox.next()  // the task waits, then the stream comes
        try await Task.sleep(for: .milliseconds(20))
        try await loop.submit { inbox.deliver(second) }.get()
        #expect(await waited?.channel === second.channel)
        try await loop.submit { inbox.finish() }.get()
        #expect(await inbox.next() == nil)
    }

    @Test func streamsNobodyWillServeAreClosed() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inbox = try await loop.submit { HTTP2StreamInbox(eventLoop: loop) }.get()  // made on its loop
        let (queuedWasActive, queuedIsActive, lateIsActive) = try await loop.submit {
            let (queued, queuedChannel) = try Self.stream()
            let (late, lateChannel) = try Self.stream()
            // An embedded channel connects at once (no waiting on a loop's thread).
            queuedChannel.connect(to: try .init(ipAddress: "127.0.0.1", port: 1), promise: nil)
            lateChannel.connect(to: try .init(ipAddress: "127.0.0.1", port: 1), promise: nil)
            inbox.deliver(queued)
            let queuedWasActive = queuedChannel.isActive
            inbox.finish()
            inbox.deliver(late)
            return (queuedWasActive, queuedChannel.isActive, lateChannel.isActive)
        }.get()
        #expect(queuedWasActive)
        #expect(!queuedIsActive)
        #expect(!lateIsActive)
        #expect(await inbox.next() == nil)
    }

    @Test func aCancelledTaskGetsNil() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let inbox = try await loop.submit { HTTP2StreamInbox(eventLoop: loop) }.get()
        let waiting = Task { await inbox.next() }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        #expect(await waiting.value == nil)
    }
}
