import HopGatePorts
import NIOCore

/// Passes a public HTTP/2 connection's received bytes to its HTTP/2 handler cut at frame
/// boundaries (``HTTP2FrameAlignment``: otherwise swift-nio-http2's decoder buffer grows without
/// bound under a long upload). Added right before the `NIOHTTP2Handler`, before the client's
/// preface has been passed on.
final class WebFrameAligner: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var alignment = HTTP2FrameAlignment(expectsClientPreface: true)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Taken out while its bytes are passed on: the HTTP/2 handler may close the connection
        // from inside `fireChannelRead`, and nothing may touch `alignment` meanwhile.
        var taken = HTTP2FrameAlignment(expectsClientPreface: false)
        swap(&taken, &alignment)
        taken.take(unwrapInboundIn(data)) { context.fireChannelRead(wrapInboundOut($0)) }
        swap(&taken, &alignment)
    }
}
