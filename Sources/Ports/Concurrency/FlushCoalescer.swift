public import NIOCore

/// Defers a flush until the event loop has run the tasks already queued, so that what is written
/// in quick succession — a response's head, body and end, each handed over from its task as a
/// separate event-loop task; the messages of several exchanges on one tunnel connection — leaves
/// in one flush: one TLS write and one system call instead of one each.
///
/// Sits right after TLS (or first, on plain HTTP). Nothing waits longer than the current round
/// of the event loop (no timer: grpc-swift's own flush coalescing, which waits up to 100 µs for
/// more, is turned off on the tunnel's connections); a close flushes first.
public final class FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = Any
    public typealias OutboundOut = Any

    private var flushPending = false

    public init() {}

    public func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushNow(context: context)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushPending else { return }
        flushPending = false
        context.flush()
    }
}
