import HopGatePorts
import NIOCore
import NIOHTTP2

/// Passes a tunnel connection's received bytes to its HTTP/2 handler cut at frame boundaries
/// (``HTTP2FrameAlignment``: otherwise swift-nio-http2's decoder buffer grows without bound
/// under a long transfer). Sits right before the `NIOHTTP2Handler`, on both ends of the tunnel.
final class TunnelFrameAligner: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var alignment: HTTP2FrameAlignment

    init(expectsClientPreface: Bool) { alignment = HTTP2FrameAlignment(expectsClientPreface: expectsClientPreface) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Taken out while its bytes are passed on: the HTTP/2 handler may close the connection
        // from inside `fireChannelRead`, and nothing may touch `alignment` meanwhile.
        var taken = HTTP2FrameAlignment(expectsClientPreface: false)
        swap(&taken, &alignment)
        taken.take(unwrapInboundIn(data)) { context.fireChannelRead(wrapInboundOut($0)) }
        swap(&taken, &alignment)
    }

    /// Puts an aligner before the HTTP/2 handler of a gRPC connection the transport has just
    /// configured (before it reads): give it to `onAcceptTCPConnection` on the server,
    /// `onCreateTCPConnection` on the client.
    @Sendable static func installOnServer(_ channel: any Channel) -> EventLoopFuture<Void> {
        install(on: channel, expectsClientPreface: true)
    }

    /// See ``installOnServer(_:)``.
    @Sendable static func installOnClient(_ channel: any Channel) -> EventLoopFuture<Void> {
        install(on: channel, expectsClientPreface: false)
    }

    private static func install(on channel: any Channel, expectsClientPreface: Bool) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let http2 = try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self)
            try channel.pipeline.syncOperations.addHandler(
                TunnelFrameAligner(expectsClientPreface: expectsClientPreface), position: .before(http2))
            // The exchanges' flushes of one event-loop round leave together, without a timer
            // (grpc-swift's coalescing, which waits up to 100 µs, is off: `TunnelHTTP2Settings`).
            try channel.pipeline.syncOperations.addHandler(FlushCoalescer(), position: .before(http2))
        }
    }
}
