import NIOCore
import NIOHTTP1

/// Closes an HTTP/1.1 connection whose next request head has not fully arrived within `timeout`
/// of the connection opening or of the previous response ending. One rule covers an idle
/// keep-alive connection and a client trickling a head byte by byte (slowloris); neither may hold
/// a socket for longer. Sits between the HTTP decoder and the pipelining handler.
///
/// Surprising: no timer per request. A keep-alive connection's deadline moves with every
/// response, and scheduling and cancelling a task each time cost every request an allocation
/// and a search of the loop's timer queue. The deadline is a value; one scheduled check per
/// connection looks at it when it comes due, closes the connection if the deadline has passed,
/// and otherwise checks again at the deadline it finds.
final class RequestHeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    /// When the connection closes unless a request head has come by then; nil while a request
    /// is open.
    private var deadline: NIODeadline?
    /// The scheduled check, if one is pending (at or before `deadline`).
    private var check: Scheduled<Void>?
    /// Requests whose head arrived and whose response has not ended (pipelining may stack them).
    private var open = 0

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            open += 1
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            open = max(0, open - 1)
            if open == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        let due = context.eventLoop.now + timeout
        deadline = due
        if check == nil { scheduleCheck(on: context.channel, at: due) }
    }

    private func scheduleCheck(on channel: any Channel, at time: NIODeadline) {
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        check = channel.eventLoop.scheduleTask(deadline: time) { handler.value.checkDue(channel) }
    }

    private func checkDue(_ channel: any Channel) {
        check = nil
        guard let deadline else { return }  // a request is open; its response's end re-arms
        if deadline <= channel.eventLoop.now {
            channel.close(promise: nil)
        } else {
            scheduleCheck(on: channel, at: deadline)
        }
    }

    private func stop() {
        check?.cancel()
        check = nil
        deadline = nil
    }
}
