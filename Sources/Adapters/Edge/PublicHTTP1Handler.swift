import HTTPTypes
package import NIOCore
package import NIOHTTP1
package import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The one handler between a public HTTP/1.1 connection's request reader
/// (``HTTP1RequestReader``) and its ``WebPartChannel``. It
/// - refuses request heads that ``HTTP1RequestHeadGuard`` finds wrong, and answers malformed
///   input (``HTTPParseErrorResponder``);
/// - keeps pipelined requests and the application's reads waiting while a response is in flight,
///   and closes the connection when a graceful shutdown asks (``HTTP1Pipelining``);
/// - keeps the socket registered for reading while a response is made (``ReadInterestKeeper``)
///   and closes a connection whose next request head is late (``RequestHeadDeadline``);
/// - turns NIOHTTP1's parts into HTTPTypes' and back (``HTTPTypesServerCodec``), writes the
///   responses' bytes (``HTTP1ResponseEncoder``), and hands the connection over to raw bytes
///   when a `101 Switching Protocols` goes out (``HTTP1Pipeline/switchToBytes(from:context:)``).
///
/// One handler rather than one each (NIO's `HTTPServerPipelineHandler`, a handler of our own
/// for the reads and the deadline, and the encoder sat below it), because each handler a part
/// passes costs a cast out of and a wrap into `NIOAny` and a call through the pipeline:
/// measured with callgrind, about 770 instructions per part and handler.
package final class PublicHTTP1Handler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = IOData

    /// An inbound event held while a response is in flight.
    private enum Held {
        case part(HTTPServerRequestPart)
        case parseError(any Error)
    }

    /// Whether the connection is HTTPS (the requests' scheme).
    private let secure: Bool
    private let headGuard: HTTP1RequestHeadGuard
    private var parseErrors = HTTPParseErrorResponder()
    private var encoder = HTTP1ResponseEncoder()
    private var pipelining = HTTP1Pipelining()
    /// Events that arrived while a response was in flight, in order.
    private var held = CircularBuffer<Held>(initialCapacity: 0)
    private var reads = ReadInterestKeeper()
    private let deadline: RequestHeadDeadline
    /// A request head was refused or malformed input answered: whatever follows is dropped,
    /// the connection is closing.
    private var refusing = false
    /// This handler's context, for the response parts ``WebPartHandler`` writes by a direct call.
    private var context: ChannelHandlerContext?
    /// The handler after this one, which takes the request parts by a direct call (see
    /// ``passPartsDirectly(to:)``); nil when they go through the pipeline.
    private var application: WebPartHandler?

    package init(secure: Bool, limits: HTTP1RequestLimits = HTTP1RequestLimits(), requestHeadTimeout: TimeAmount = .seconds(60)) {
        self.secure = secure
        self.headGuard = HTTP1RequestHeadGuard(limits: limits)
        self.deadline = RequestHeadDeadline(timeout: requestHeadTimeout)
    }

    // MARK: Lifecycle

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { deadline.start(on: context.channel) }
    }

    /// Request parts go to `application`, and its response parts come here, by direct calls
    /// instead of through the pipeline: `application` is the handler right after this one. Each
    /// part through the pipeline is wrapped in `NIOAny` (boxed when it is larger than three
    /// words) and cast out of it at the other end, ≈ 460 instructions for the cast alone
    /// (callgrind); a small request has two parts in and three out. Other events still take
    /// the pipeline, so their order with the parts is kept. Undone when this handler is removed
    /// (a protocol switch, or the channel's close).
    func passPartsDirectly(to application: WebPartHandler) {
        self.application = application
        application.responseWriter = self
    }

    package func channelActive(context: ChannelHandlerContext) {
        deadline.start(on: context.channel)
        context.fireChannelActive()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        application?.responseWriter = nil
        application = nil
        self.context = nil
        deadline.stop()
        // Only a protocol switch removes this handler, and the parser reads nothing after an
        // upgrade request: nothing is held but maybe a read.
        held.removeAll()
        if pipelining.takeHeldRead() { context.read() }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        deadline.stop()
        held.removeAll()
        context.fireChannelInactive()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if pipelining.quiesce() == .close {
            held.removeAll()
            context.close(promise: nil)
        }
        if pipelining.dropsInput { held.removeAll() }
    }

    // MARK: Inbound

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        reads.dataArrived()
        if case .head = part { deadline.requestArrived() }
        receive(.part(part), context: context)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if reads.readsAhead() { context.read() }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        receive(.parseError(error), context: context)
    }

    package func read(context: ChannelHandlerContext) {
        guard pipelining.readRequested() else { return }
        reads.readRequested()
        context.read()
    }

    /// An event goes up now, or waits for the response in flight (and for those held before it).
    private func receive(_ event: Held, context: ChannelHandlerContext) {
        guard !pipelining.dropsInput, !refusing else { return }
        if !held.isEmpty || pipelining.holdsInput {
            held.append(event)
            return
        }
        deliver(event, context: context)
    }

    private func deliver(_ event: Held, context: ChannelHandlerContext) {
        switch event {
        case .part(.head(var head)):
            pipelining.requestHeadDelivered()
            parseErrors.requestArrived(head)
            if let status = headGuard.problem(with: &head) {
                refusing = true
                writeAndClose([.head(HTTP1RequestHeadGuard.refusal(status)), .end(nil)], context: context)
                return
            }
            forward(.head(head), context: context)
        case .part(let part):
            if case .end = part, pipelining.requestEndDelivered() == .close {
                held.removeAll()
                context.close(promise: nil)
            }
            forward(part, context: context)
        case .parseError(let error):
            pipelining.parseErrorDelivered()
            guard let answer = parseErrors.answer(to: error) else {
                context.fireErrorCaught(error)
                return
            }
            refusing = true
            writeAndClose(answer, context: context)
            context.fireErrorCaught(error)
        }
    }

    /// A request part, as HTTPTypes' part, to the application.
    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        do {
            let converted = try HTTPTypesServerCodec.requestPart(part, secure: secure)
            if let application {
                application.receive(converted)
            } else {
                context.fireChannelRead(wrapInboundOut(converted))
            }
        } catch {
            context.fireErrorCaught(error)
        }
    }

    // MARK: Outbound

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        write(unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// A response part from ``WebPartHandler``'s direct call (see ``passPartsDirectly(to:)``).
    func write(_ part: HTTPResponsePart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        write(part, context: context, promise: promise)
    }

    private func write(_ part: HTTPResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard !parseErrors.failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch part {
        case .head(let response):
            parseErrors.responseHeadWritten(status: response.status.code)
            encoder.writeHead(response, closing: pipelining.closesAfterResponse, context: context, promise: promise)
            // The head is bytes already, so the HTTP handlers can go after it.
            if response.status == .switchingProtocols {
                HTTP1Pipeline.switchToBytes(from: self, context: context)
            }
        case .body(let buffer):
            encoder.write(.body(.byteBuffer(buffer)), context: context, promise: promise)
        case .end(let trailers):
            let end = HTTPServerResponsePart.end(trailers.map(HTTPHeaders.init))
            parseErrors.responseWritten(end)
            deadline.responseEnded(on: context.channel)
            reads.responseEnded()
            if pipelining.responseEnded() == .closeAfterWrite {
                let written = context.eventLoop.makePromise(of: Void.self)
                encoder.write(end, context: context, promise: written)
                let loopBound = context.loopBound
                written.futureResult.flatMap { loopBound.value.close() }.cascade(to: promise)
            } else {
                encoder.write(end, context: context, promise: promise)
            }
            deliverHeld(context: context)
        }
    }

    /// After a response's end: the held events go up until the next request has been read to
    /// its end, then a held read goes down if nothing is held any more.
    private func deliverHeld(context: ChannelHandlerContext) {
        var delivered = false
        while !pipelining.holdsInput, !pipelining.dropsInput, !refusing, let event = held.popFirst() {
            deliver(event, context: context)
            delivered = true
        }
        if delivered { context.fireChannelReadComplete() }
        if held.isEmpty, pipelining.releasesHeldRead() {
            reads.readRequested()
            context.read()
        }
    }

    /// Writes `parts` (flushing after the last) and closes the connection.
    private func writeAndClose(_ parts: [HTTPServerResponsePart], context: ChannelHandlerContext) {
        held.removeAll()
        for part in parts {
            parseErrors.responseWritten(part)
            encoder.write(part, context: context, promise: nil)
        }
        context.flush()
        context.close(promise: nil)
    }
}
