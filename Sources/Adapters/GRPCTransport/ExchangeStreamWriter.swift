import GRPCCore
import NIOCore
import Synchronization

/// Writes an Exchange stream's messages straight to its HTTP/2 stream channel, for a stream
/// served by its channel handler (``ExchangeStreamHandler``): the messages of one call are
/// framed in the caller's task, and written and flushed together on the stream's event loop —
/// at once when the caller runs there, else in one `execute` that nothing waits for.
///
/// Back-pressure: a call returns at once while the stream is writable, and otherwise waits
/// until it is again (or the stream has ended). Writing to a stream that has ended throws; a
/// write that loses the race with the end is dropped, and the exchange learns of the end from
/// its response, which fails.
struct ExchangeStreamWriter: RPCWriterProtocol {
    typealias Element = Hopgate_Tunnel_V1_ExchangeFromServer

    let channel: any Channel
    let handler: NIOLoopBound<ExchangeStreamHandler>
    let ended: ExchangeStreamEnd

    func write(_ element: Element) async throws {
        try await write(contentsOf: CollectionOfOne(element))
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        guard !ended.hasEnded else { throw RPCError(code: .unavailable, message: "the exchange stream has ended") }
        var frames = ByteBuffer()
        for element in elements { try GRPCMessageFraming.append(element, to: &frames) }
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            handler.value.writeMessages(frames)
        } else {
            let handler = self.handler
            eventLoop.execute { handler.value.writeMessages(frames) }
        }
        guard !channel.isWritable else { return }
        // Cancellable: an exchange that ends (its response deadline, say) stops waiting for a
        // client that does not read.
        let handler = self.handler
        let id = Self.waits.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                eventLoop.execute { handler.value.waitUntilWritable(continuation, id: id) }
            }
        } onCancel: {
            eventLoop.execute { handler.value.cancelWritabilityWait(id: id) }
        }
    }

    /// Numbers the waits for writability, so that a cancellation finds its own.
    private static let waits = Atomic<UInt64>(0)
}

/// Whether an Exchange stream served by its channel handler has ended, readable from any task
/// (its writers check it before framing a message).
final class ExchangeStreamEnd: Sendable {
    private let ended = Atomic(false)

    var hasEnded: Bool { ended.load(ordering: .acquiring) }

    func markEnded() { ended.store(true, ordering: .releasing) }
}
