import GRPCCore
import NIOCore
import SwiftProtobuf
import Synchronization

/// The channel handler that serves an Exchange stream and writes for ``ExchangeStreamWriter``,
/// on the stream's event loop: the edge's ``ExchangeStreamHandler`` and the client's
/// ``ClientExchangeStreamHandler``.
protocol ExchangeMessageSink: AnyObject, SendableMetatype {
    /// Writes and flushes framed messages; dropped once the stream has ended.
    func writeMessages(_ frames: ByteBuffer)
    /// Resumes `continuation` once the stream is writable again, or (throwing) once it has
    /// ended or the wait `id` is cancelled.
    func waitUntilWritable(_ continuation: CheckedContinuation<Void, any Error>, id: UInt64)
    /// The task waiting for writability (`id`) was cancelled.
    func cancelWritabilityWait(id: UInt64)
}

/// Writes an Exchange stream's messages straight to its HTTP/2 stream channel, for a stream
/// served by its channel handler: the messages of one call are framed in the caller's task,
/// and written and flushed together on the stream's event loop — at once when the caller runs
/// there, else in one `execute` that nothing waits for.
///
/// Back-pressure: a call returns at once while the stream is writable, and otherwise waits
/// until it is again (or the stream has ended). Writing to a stream that has ended throws; a
/// write that loses the race with the end is dropped, and the exchange learns of the end from
/// its other side, which fails.
struct ExchangeStreamWriter<Element: ExchangeWireMessage, Sink: ExchangeMessageSink>: Sendable {
    let channel: any Channel
    let sink: NIOLoopBound<Sink>
    let ended: ExchangeStreamEnd

    nonisolated(nonsending) func write(_ element: Element) async throws {
        guard !ended.hasEnded else { throw RPCError(code: .unavailable, message: "the exchange stream has ended") }
        try await write(frames: GRPCMessageFraming.frame(element, allocator: channel.allocator))
    }

    nonisolated(nonsending) func write(contentsOf elements: some Sequence<Element>) async throws {
        guard !ended.hasEnded else { throw RPCError(code: .unavailable, message: "the exchange stream has ended") }
        try await write(frames: GRPCMessageFraming.frames(of: elements, allocator: channel.allocator))
    }

    /// Writes framed messages, then waits while the stream is not writable.
    private nonisolated(nonsending) func write(frames: ByteBuffer) async throws {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            sink.value.writeMessages(frames)
        } else {
            let sink = self.sink
            eventLoop.execute { sink.value.writeMessages(frames) }
        }
        guard !channel.isWritable else { return }
        // Cancellable: an exchange that ends (its response deadline, say) stops waiting for a
        // peer that does not read.
        let sink = self.sink
        let id = WritabilityWaitIDs.next.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                eventLoop.execute { sink.value.waitUntilWritable(continuation, id: id) }
            }
        } onCancel: {
            eventLoop.execute { sink.value.cancelWritabilityWait(id: id) }
        }
    }
}

/// Numbers the waits for writability, so that a cancellation finds its own (a generic type
/// cannot hold a static stored property).
private enum WritabilityWaitIDs {
    static let next = Atomic<UInt64>(0)
}

/// Whether an Exchange stream served by its channel handler has ended, readable from any task
/// (its writers check it before framing a message).
final class ExchangeStreamEnd: Sendable {
    private let ended = Atomic(false)

    var hasEnded: Bool { ended.load(ordering: .acquiring) }

    func markEnded() { ended.store(true, ordering: .releasing) }
}
