import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The last handler of a public connection's (or HTTP/2 stream's) pipeline, for its
/// ``WebPartChannel``: keeps the request parts that have come until the serving task takes them,
/// and writes its response parts. Everything here runs on the channel's event loop.
final class WebPartHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Reading stops while this many parts wait to be taken, and resumes when they are down to
    /// ``lowWatermark`` (`NIOAsyncChannel`'s defaults).
    static let highWatermark = 10
    static let lowWatermark = 2

    /// Numbers the waits of all channels, so that a cancellation finds its own.
    static let waitIDs = Atomic<UInt64>(0)

    /// A part taken at once, or the end of the input (nil).
    struct Taken {
        let part: HTTPRequestPart?
    }

    private var context: ChannelHandlerContext?
    private var parts = CircularBuffer<HTTPRequestPart>(initialCapacity: 4)
    private var inputEnded = false
    private var closed = false
    private var failure: (any Error)?
    /// The waiting task's continuation: an unsafe one (no allocation or check per wait), which is
    /// safe because each is resumed by whoever takes it out of here, once (``receive(_:)``,
    /// ``waitForPart(_:id:)``, ``cancelWaitForPart(id:)``, ``endInput()``), all on the loop.
    private var reader: (id: UInt64, continuation: UnsafeContinuation<HTTPRequestPart?, any Error>)?
    private var cancelledReads: Set<UInt64> = []
    private var readPending = false
    private var writabilityWaiters = WritabilityWaiters()
    /// The handler just before this one on a public HTTP/1.1 connection, which takes the
    /// response parts by a direct call (see ``PublicHTTP1Handler/passPartsDirectly(to:)``); nil
    /// on an HTTP/2 stream and after a protocol switch, where they go through the pipeline.
    var responseWriter: PublicHTTP1Handler?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        channelClosed()
        self.context = nil
    }

    // MARK: Request parts

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data))
    }

    /// A request part: to the waiting task, or kept until it is taken.
    func receive(_ part: HTTPRequestPart) {
        if let waiting = reader {
            reader = nil
            waiting.continuation.resume(returning: part)
        } else {
            parts.append(part)
        }
    }

    func read(context: ChannelHandlerContext) {
        if parts.count >= Self.highWatermark {
            readPending = true
            return
        }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { endInput() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil { failure = error }
        endInput()
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        channelClosed()
        context.fireChannelInactive()
    }

    /// The next part if one has come, the end (a nil part) if the input is over, nil when the
    /// caller has to wait; throws the channel's failure once.
    func takeNow() throws -> Taken? {
        if let part = parts.popFirst() {
            if readPending, parts.count <= Self.lowWatermark, let context {
                readPending = false
                context.read()
            }
            return Taken(part: part)
        }
        if let failure {
            self.failure = nil
            throw failure
        }
        return inputEnded ? Taken(part: nil) : nil
    }

    /// Resumes `continuation` with the next part (or the end, or the failure) when it comes.
    func waitForPart(_ continuation: UnsafeContinuation<HTTPRequestPart?, any Error>, id: UInt64) {
        if cancelledReads.remove(id) != nil {
            continuation.resume(throwing: CancellationError())
            return
        }
        do {
            if let taken = try takeNow() {
                continuation.resume(returning: taken.part)
                return
            }
        } catch {
            continuation.resume(throwing: error)
            return
        }
        guard reader == nil else {
            // One task reads at a time (the serving task, or the router's body pump while it
            // runs); a second one is a bug, refused rather than left waiting forever.
            continuation.resume(throwing: ChannelError.inappropriateOperationForState)
            return
        }
        reader = (id, continuation)
    }

    /// The task waiting for a part (`id`) was cancelled.
    func cancelWaitForPart(id: UInt64) {
        guard let waiting = reader, waiting.id == id else {
            cancelledReads.insert(id)
            return
        }
        reader = nil
        waiting.continuation.resume(throwing: CancellationError())
    }

    private func endInput() {
        inputEnded = true
        guard let waiting = reader else { return }
        reader = nil
        do {
            waiting.continuation.resume(returning: try takeNow()?.part)
        } catch {
            waiting.continuation.resume(throwing: error)
        }
    }

    private func channelClosed() {
        guard !closed else { return }
        closed = true
        endInput()
        writabilityWaiters.releaseAll(ChannelError.ioOnClosedChannel)
    }

    // MARK: Response parts

    /// Writes `parts` and flushes; throws when the channel has closed.
    func write(_ responseParts: some Sequence<HTTPResponsePart>) throws {
        guard !closed, let context else { throw ChannelError.ioOnClosedChannel }
        for part in responseParts {
            // Asked each time: a `101` head switches the connection to bytes, which removes the
            // writer, and the parts after it go through the pipeline to the bytes handler.
            if let responseWriter {
                responseWriter.write(part, promise: nil)
            } else {
                context.write(wrapOutboundOut(part), promise: nil)
            }
        }
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writabilityWaiters.releaseAll(nil) }
        context.fireChannelWritabilityChanged()
    }

    func waitUntilWritable(_ continuation: CheckedContinuation<Void, any Error>, id: UInt64) {
        let failure: (any Error)? = closed || context == nil ? ChannelError.ioOnClosedChannel : nil
        writabilityWaiters.add(continuation, id: id, isWritable: context?.channel.isWritable ?? false, failure: failure)
    }

    func cancelWritabilityWait(id: UInt64) {
        writabilityWaiters.cancel(id: id)
    }
}
