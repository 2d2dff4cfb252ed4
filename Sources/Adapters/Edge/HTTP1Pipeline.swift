import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The HTTP/1.1 server pipeline of a public connection, able to become a raw byte pipe once a
/// `101 Switching Protocols` goes out (WebSocket and other `Upgrade`s).
///
/// The connection's ``WebPartChannel`` keeps its types across the switch: after it, inbound bytes
/// arrive as `.body` parts and `.body` parts written go out as they are; `.end` closes the
/// connection.
enum HTTP1Pipeline {
    /// Adds the HTTP/1.1 handlers to `channel` (already active or not) and wraps it.
    /// - Parameters:
    ///   - requestHeadTimeout: see ``RequestHeadDeadline`` (kept by ``PublicHTTP1Handler``).
    ///   - limits: see ``HTTP1RequestHeadGuard``.
    static func configure(
        _ channel: any Channel, secure: Bool, requestHeadTimeout: TimeAmount, limits: HTTP1RequestLimits
    ) throws -> WebPartChannel {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(FlushCoalescer())
        // Bytes after an upgrade request stay in the reader until it is removed, then are passed on.
        try operations.addHandler(HTTP1RequestReader())
        let http1 = PublicHTTP1Handler(secure: secure, limits: limits, requestHeadTimeout: requestHeadTimeout)
        try operations.addHandler(http1)
        let application = WebPartHandler()
        let wrapped = try WebPartChannel(wrappingSynchronously: channel, handler: application)
        http1.passPartsDirectly(to: application)
        return wrapped
    }

    /// Whether `request` asks to switch protocols (`Upgrade` named in `Connection`).
    static func isUpgrade(_ request: HTTPRequest) -> Bool { HopByHopFields.isUpgradeRequest(request.headerFields) }

    /// After a `101` head went out through `handler`: replaces the HTTP handlers with an
    /// ``UpgradedBytes`` codec. The router lets a 101 through only for an upgrade request.
    static func switchToBytes(from handler: PublicHTTP1Handler, context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(UpgradedBytes(), position: .after(handler))
            for replaced in [
                handler as any RemovableChannelHandler,
                // Last: removing it passes on what the client sent after the request.
                try pipeline.handler(type: HTTP1RequestReader.self),
            ] {
                pipeline.removeHandler(replaced, promise: nil)
            }
        } catch {
            context.close(promise: nil)
        }
    }

    /// After a protocol switch: raw bytes in as `.body` parts, `.body` parts out as raw bytes.
    final class UpgradedBytes: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.fireChannelRead(wrapInboundOut(.body(unwrapInboundIn(data))))
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .body(let bytes):
                context.write(wrapOutboundOut(bytes), promise: promise)
            case .end:
                // The upgraded service closed its side: so does the public connection.
                context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: promise)
                context.close(promise: nil)
            case .head:
                promise?.fail(ChannelError.inappropriateOperationForState)
            }
        }
    }
}
