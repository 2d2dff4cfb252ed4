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
    ///   - requestHeadTimeout: see ``RequestHeadDeadline``.
    ///   - limits: see ``HTTP1RequestHeadGuard``.
    static func configure(
        _ channel: any Channel, secure: Bool, requestHeadTimeout: TimeAmount, limits: HTTP1RequestLimits
    ) throws -> WebPartChannel {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(FlushCoalescer())
        try operations.addHandler(HTTPResponseEncoder())
        // Bytes after an upgrade request stay in the decoder until it is removed, then are passed on.
        try operations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        try operations.addHandler(ReadInterestKeeper())
        try operations.addHandler(RequestHeadDeadline(timeout: requestHeadTimeout))
        try operations.addHandler(HTTPServerPipelineHandler())
        try operations.addHandler(HTTPParseErrorResponder())
        try operations.addHandler(HTTP1RequestHeadGuard(limits: limits))
        try operations.addHandler(HTTPTypesServerCodec(secure: secure))
        try operations.addHandler(UpgradeSwitch())
        return try WebPartChannel(wrappingSynchronously: channel)
    }

    /// Whether `request` asks to switch protocols (`Upgrade` named in `Connection`).
    static func isUpgrade(_ request: HTTPRequest) -> Bool { HopByHopFields.isUpgradeRequest(request.headerFields) }

    /// Watches responses; when a `101` head goes out, replaces the HTTP handlers with an
    /// ``UpgradedBytes`` codec and steps out of the pipeline. The router lets a 101 through only
    /// for an upgrade request.
    final class UpgradeSwitch: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            guard case .head(let head) = unwrapOutboundIn(data), head.status == .switchingProtocols else {
                context.write(data, promise: promise)
                return
            }
            // The encoder turns the head into bytes right away, so the handlers can go after it.
            context.write(data, promise: promise)
            let pipeline = context.pipeline.syncOperations
            do {
                try pipeline.addHandler(UpgradedBytes(), position: .after(self))
                for handler in [
                    try pipeline.handler(type: HTTPTypesServerCodec.self) as any RemovableChannelHandler,
                    try pipeline.handler(type: HTTP1RequestHeadGuard.self),
                    try pipeline.handler(type: HTTPParseErrorResponder.self),
                    try pipeline.handler(type: HTTPServerPipelineHandler.self),
                    try pipeline.handler(type: RequestHeadDeadline.self),
                    try pipeline.handler(type: ReadInterestKeeper.self),
                    try pipeline.handler(type: HTTPResponseEncoder.self),
                    self,
                    // Last: removing it passes on what the client sent after the request.
                    try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self),
                ] {
                    pipeline.removeHandler(handler, promise: nil)
                }
            } catch {
                context.close(promise: nil)
            }
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
