import NIOCore

/// Defers a flush until the event loop has run the tasks already queued, so that what the
/// router writes for one response in quick succession — its head, body and end, each handed
/// over from its task as a separate event-loop task — leaves in one flush: one TLS write and one
/// system call instead of one per part.
///
/// Sits right after TLS (or first, on plain HTTP). Nothing waits longer than the current round
/// of the event loop; a close flushes first.
final class FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private var flushPending = false

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushNow(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushPending else { return }
        flushPending = false
        context.flush()
    }
}
