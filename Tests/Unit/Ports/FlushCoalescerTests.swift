import HopGatePorts
import NIOCore
import NIOEmbedded
import Testing

/// The handler after TLS that flushes once per event-loop round and copies the small writes of a
/// flush into one buffer (one TLS record instead of one per write).
@Suite("Flush coalescer")
struct FlushCoalescerTests {
    @Test("small writes of one flush leave as one buffer, in order, when the round ends")
    func mergesSmallWrites() throws {
        let channel = try coalescing()
        defer { _ = try? channel.finish() }
        channel.write(bytes("frame header "), promise: nil)
        channel.write(bytes("payload"), promise: nil)
        channel.flush()
        channel.write(bytes(", more"), promise: nil)  // same round: joins the same flush
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing leaves before the round ends")
        channel.embeddedEventLoop.run()
        #expect(try outbound(channel) == ["frame header payload, more"])
    }

    @Test("a large write passes as it is, after the small ones before it and before those after it")
    func largeWritesPassInOrder() throws {
        let channel = try coalescing()
        defer { _ = try? channel.finish() }
        let large = String(repeating: "L", count: FlushCoalescer.smallWriteBytes + 1)
        channel.write(bytes("a"), promise: nil)
        channel.write(bytes("b"), promise: nil)
        channel.write(bytes(large), promise: nil)
        channel.write(bytes("c"), promise: nil)
        channel.flush()
        channel.embeddedEventLoop.run()
        #expect(try outbound(channel) == ["ab", large, "c"])
    }

    @Test("a merged buffer stops at one TLS record's plaintext")
    func mergedBuffersStopAtOneRecord() throws {
        let channel = try coalescing()
        defer { _ = try? channel.finish() }
        let piece = String(repeating: "x", count: FlushCoalescer.smallWriteBytes)
        for _ in 0..<5 { channel.write(bytes(piece), promise: nil) }
        channel.flush()
        channel.embeddedEventLoop.run()
        let sizes = try outbound(channel).map(\.count)
        #expect(sizes == [4 * piece.count, piece.count])
        #expect(sizes.allSatisfy { $0 <= FlushCoalescer.mergedBytesLimit })
    }

    @Test("every merged write's promise completes with the write that carried it")
    func promisesOfMergedWritesComplete() throws {
        let channel = try coalescing()
        defer { _ = try? channel.finish() }
        let first = channel.eventLoop.makePromise(of: Void.self)
        let second = channel.eventLoop.makePromise(of: Void.self)
        var completed = 0
        first.futureResult.whenSuccess { completed += 1 }
        second.futureResult.whenSuccess { completed += 1 }
        channel.write(bytes("one"), promise: first)
        channel.write(bytes("two"), promise: nil)
        channel.write(bytes("three"), promise: second)
        channel.flush()
        channel.embeddedEventLoop.run()
        #expect(try outbound(channel) == ["onetwothree"])
        #expect(completed == 2)
    }

    @Test("on a public HTTP/2 connection a stream's reset leaves alone, after what came before it")
    func http2ResetsLeaveAlone() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer(keepingHTTP2ResetsApart: true))
        var reset = ByteBuffer()
        reset.writeBytes([0, 0, 4, 0x3, 0, 0, 0, 0, 1, 0, 0, 0, 2])  // RST_STREAM, stream 1, INTERNAL_ERROR
        channel.write(bytes("HEADERS"), promise: nil)
        channel.write(bytes("DATA"), promise: nil)
        channel.write(reset, promise: nil)
        channel.write(bytes("next"), promise: nil)
        channel.write(bytes(" frames"), promise: nil)
        channel.flush()
        channel.embeddedEventLoop.run()
        var written: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written.append(buffer) }
        #expect(written.map { String(buffer: $0) } == ["HEADERSDATA", String(buffer: reset), "next frames"])
    }

    @Test("a close passes and flushes what was written first")
    func closeFlushesFirst() throws {
        let channel = try coalescing()
        channel.write(bytes("last "), promise: nil)
        channel.write(bytes("words"), promise: nil)
        channel.flush()
        try channel.close().wait()
        #expect(try outbound(channel) == ["last words"])
    }

    private func coalescing() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer())
        return channel
    }

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func outbound(_ channel: EmbeddedChannel) throws -> [String] {
        var written: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            written.append(String(buffer: buffer))
        }
        return written
    }
}
