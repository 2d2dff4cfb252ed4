import NIOCore
import NIOHTTP1

/// The one handler between the HTTP/1.1 decoder and the pipelining handler of a public
/// connection: keeps the socket registered for reading while a response is made
/// (``ReadInterestKeeper``) and closes a connection whose next request head is late
/// (``RequestHeadDeadline``).
///
/// One handler rather than one each, as with ``PublicHTTP1Handler``: each handler a part passes
/// costs a cast out of and a wrap into `NIOAny` and a call through the pipeline (≈ 770
/// instructions a part, callgrind).
final class HTTP1ConnectionKeeper: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var reads = ReadInterestKeeper()
    private let deadline: RequestHeadDeadline

    init(requestHeadTimeout: TimeAmount) {
        deadline = RequestHeadDeadline(timeout: requestHeadTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { deadline.start(on: context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        deadline.start(on: context.channel)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline.stop() }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads.dataArrived()
        if case .head = unwrapInboundIn(data) { deadline.requestArrived() }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if reads.readsAhead() { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            deadline.responseEnded(on: context.channel)
            reads.responseEnded()
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        reads.readRequested()
        context.read()
    }
}
