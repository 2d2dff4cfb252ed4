import NIOCore

/// The streams a public HTTP/2 connection's peer opened, waiting for the connection's task to
/// serve each: filled by the HTTP/2 handler's stream initializer, emptied by
/// ``WebConnectionServing``, both on the connection's event loop.
///
/// In place of `NIOHTTP2Handler.AsyncStreamMultiplexer`, whose inbound sequence cost every stream
/// an initializer future mapped into another, an `AsyncThrowingStream` yield, and the generic
/// metadata of each (`Result` 16 times a request, `EventLoopFuture`, the stream's continuation),
/// looked up at run time because NIO's generic code is not specialized for our type. Measured
/// with callgrind, together with ``PublicHTTP2StreamCodec`` and ``HTTP2FieldBlockCheck``: an
/// HTTP/2 request cost the edge 394,000 instructions before and 317,000 after.
///
/// Holds at most the connection's stream limit (`SETTINGS_MAX_CONCURRENT_STREAMS`).
final class HTTP2StreamInbox: Sendable {
    private final class State {
        var streams = CircularBuffer<HTTP2WebStream>(initialCapacity: 4)
        var finished = false
        var waiter: CheckedContinuation<HTTP2WebStream?, Never>?
    }

    private let eventLoop: any EventLoop
    private let state: NIOLoopBound<State>

    /// On `eventLoop`, the connection's.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.state = NIOLoopBound(State(), eventLoop: eventLoop)
    }

    /// A new stream; on the event loop. After ``finish()`` (the serving task was cancelled, the
    /// edge is stopping) nobody would serve it: it is reset instead.
    func deliver(_ stream: HTTP2WebStream) {
        let state = self.state.value
        if let waiter = state.waiter {
            state.waiter = nil
            waiter.resume(returning: stream)
        } else if state.finished {
            stream.channel.close()
        } else {
            state.streams.append(stream)
        }
    }

    /// No more streams: the connection closed, or its task was cancelled. On the event loop.
    func finish() {
        let state = self.state.value
        state.finished = true
        while let stream = state.streams.popFirst() { stream.channel.close() }
        state.waiter?.resume(returning: nil)
        state.waiter = nil
    }

    /// The next stream to serve; nil once the connection has closed or the waiting task is
    /// cancelled.
    func next() async -> HTTP2WebStream? {
        if eventLoop.inEventLoop, let stream = takeNow() { return stream }
        let eventLoop = self.eventLoop
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<HTTP2WebStream?, Never>) in
                if eventLoop.inEventLoop {
                    wait(continuation)
                } else {
                    eventLoop.execute { self.wait(continuation) }
                }
            }
        } onCancel: {
            eventLoop.execute { self.finish() }
        }
    }

    /// A queued stream, if any.
    private func takeNow() -> HTTP2WebStream? {
        state.value.streams.popFirst()
    }

    private func wait(_ continuation: CheckedContinuation<HTTP2WebStream?, Never>) {
        let state = self.state.value
        if let stream = state.streams.popFirst() {
            continuation.resume(returning: stream)
        } else if state.finished {
            continuation.resume(returning: nil)
        } else {
            state.waiter = continuation
        }
    }
}
