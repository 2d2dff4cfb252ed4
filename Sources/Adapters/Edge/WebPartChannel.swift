import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTPTypes
import Synchronization

/// A public HTTP/1.1 connection's, or HTTP/2 stream's, request parts in and response parts out,
/// for the task that serves it (``WebConnectionServing``) — what `NIOAsyncChannel` gave it,
/// without the async sequence producer and writer between the task and the channel.
///
/// The serving task runs on the channel's event loop (``WebConnection/executor``), so a part
/// that has already arrived is taken, and a response part written, without a suspension or a
/// hop: only waiting for a part that has not come yet suspends the task. Calls from another
/// task (the router's request body pump may run elsewhere) go through the loop.
///
/// Back-pressure both ways, as `NIOAsyncChannel`'s defaults: reading from the socket stops while
/// ``WebPartHandler/highWatermark`` parts wait to be taken, and a write returns only once the
/// channel is writable.
final class WebPartChannel: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<WebPartHandler>

    /// Adds `handler` at the end of `channel`'s pipeline; on the channel's event loop.
    init(wrappingSynchronously channel: any Channel, handler: WebPartHandler = WebPartHandler()) throws {
        try channel.pipeline.syncOperations.addHandler(handler)
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// The next request part; nil once the input has ended. Throws the channel's error, or
    /// `CancellationError` when the waiting task is cancelled.
    nonisolated(nonsending) func next() async throws -> HTTPRequestPart? {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop, let taken = try handler.value.takeNow() {
            return taken.part
        }
        let handler = self.handler
        let id = WebPartHandler.waitIDs.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<HTTPRequestPart?, any Error>) in
                if eventLoop.inEventLoop {
                    handler.value.waitForPart(continuation, id: id)
                } else {
                    eventLoop.execute { handler.value.waitForPart(continuation, id: id) }
                }
            }
        } onCancel: {
            eventLoop.execute { handler.value.cancelWaitForPart(id: id) }
        }
    }

    nonisolated(nonsending) func write(_ part: HTTPResponsePart) async throws {
        try await write(contentsOf: CollectionOfOne(part))
    }

    /// Writes `parts` with one flush; waits while the channel is not writable. Throws when the
    /// channel has closed.
    nonisolated(nonsending) func write(contentsOf parts: some Sequence<HTTPResponsePart>) async throws {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            try handler.value.write(parts)
        } else {
            let parts = Array(parts)
            let handler = self.handler
            try await eventLoop.submit { try handler.value.write(parts) }.get()
        }
        guard !channel.isWritable else { return }
        let handler = self.handler
        let id = WebPartHandler.waitIDs.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                eventLoop.execute { handler.value.waitUntilWritable(continuation, id: id) }
            }
        } onCancel: {
            eventLoop.execute { handler.value.cancelWritabilityWait(id: id) }
        }
    }

    /// Closes the connection (or resets the HTTP/2 stream, unless it has ended both ways).
    func close() {
        channel.close(promise: nil)
    }
}
