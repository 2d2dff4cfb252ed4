import NIOCore
import NIOHTTP2

/// Closes an HTTP/2 connection after a connection error. swift-nio-http2 sends the GOAWAY (for a
/// rapid-reset storm, a CONTINUATION flood, a protocol violation …) and passes the error down the
/// pipeline, but leaves closing to the application — RFC 9113 §5.4.1 says the TCP connection
/// MUST be closed after it, and an attacker must not keep the socket. Stream errors only reset
/// their stream and are left alone.
final class HTTP2ConnectionErrorCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOHTTP2Errors.StreamError { return }
        context.close(promise: nil)
    }
}
