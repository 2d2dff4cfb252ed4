import NIOCore
import NIOHTTP2
import Synchronization

/// Whether an HTTP/2 request's HEADERS frame ended its stream (END_STREAM): the request then
/// has no body, which its head alone cannot tell (unlike HTTP/1.1's framing fields).
final class HTTP2RequestEnd: Sendable {
    private let endedWithHead = Atomic(false)
    /// Set on the stream's event loop before the head reaches the request's reader.
    var endsWithHead: Bool { endedWithHead.load(ordering: .acquiring) }
    fileprivate func markEndedWithHead() { endedWithHead.store(true, ordering: .releasing) }
}

/// Notes in an ``HTTP2RequestEnd`` whether the stream's first HEADERS frame carried END_STREAM,
/// and passes every frame on unchanged.
final class HTTP2RequestEndObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let end: HTTP2RequestEnd
    private var headersSeen = false

    init(_ end: HTTP2RequestEnd) { self.end = end }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headersSeen, case .headers(let headers) = unwrapInboundIn(data) {
            headersSeen = true
            if headers.endStream { end.markEndedWithHead() }
        }
        context.fireChannelRead(data)
    }
}
