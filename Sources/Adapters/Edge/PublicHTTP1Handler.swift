import HTTPTypes
package import NIOCore
package import NIOHTTP1
package import NIOHTTPTypes

/// The one handler between NIO's `HTTPServerPipelineHandler` and a public HTTP/1.1 connection's
/// ``WebPartChannel``: it refuses request heads that ``HTTP1RequestHeadGuard`` finds wrong,
/// answers malformed input (``HTTPParseErrorResponder``), turns NIOHTTP1's parts into HTTPTypes'
/// and back (``HTTPTypesServerCodec``), and hands the connection over to raw bytes when a
/// `101 Switching Protocols` goes out (``HTTP1Pipeline/switchToBytes(from:context:)``).
///
/// One handler rather than one each, because each handler a part passes costs a cast out of and
/// a wrap into `NIOAny` and a call through the pipeline: measured with callgrind, about 770
/// instructions per part and handler; the edge's instructions per small request fell by 8,200
/// (3 %) when four handlers became this one.
package final class PublicHTTP1Handler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    /// Whether the connection is HTTPS (the requests' scheme).
    private let secure: Bool
    private let headGuard: HTTP1RequestHeadGuard
    private var parseErrors = HTTPParseErrorResponder()
    /// A request head was refused: the rest of it is dropped, the connection is closing.
    private var refusing = false

    package init(secure: Bool, limits: HTTP1RequestLimits = HTTP1RequestLimits()) {
        self.secure = secure
        self.headGuard = HTTP1RequestHeadGuard(limits: limits)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(var head) = part {
            parseErrors.requestArrived(head)
            guard !refusing else { return }
            if let status = headGuard.problem(with: &head) {
                refusing = true
                writeAndClose([.head(HTTP1RequestHeadGuard.refusal(status)), .end(nil)], context: context)
                return
            }
            deliver(.head(head), context: context)
        } else if !refusing {
            deliver(part, context: context)
        }
    }

    private func deliver(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        do {
            context.fireChannelRead(wrapInboundOut(try HTTPTypesServerCodec.requestPart(part, secure: secure)))
        } catch {
            context.fireErrorCaught(error)
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !parseErrors.failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let part = unwrapOutboundIn(data)
        let converted = HTTPTypesServerCodec.responsePart(part)
        parseErrors.responseWritten(converted)
        context.write(wrapOutboundOut(converted), promise: promise)
        // The encoder has turned the head into bytes already, so the handlers can go after it.
        if case .head(let head) = part, head.status == .switchingProtocols {
            HTTP1Pipeline.switchToBytes(from: self, context: context)
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let answer = parseErrors.answer(to: error) else {
            context.fireErrorCaught(error)
            return
        }
        writeAndClose(answer, context: context)
        context.fireErrorCaught(error)
    }

    /// Writes `parts` (flushing after the last) and closes the connection.
    private func writeAndClose(_ parts: [HTTPServerResponsePart], context: ChannelHandlerContext) {
        for (index, part) in parts.enumerated() {
            parseErrors.responseWritten(part)
            if index == parts.count - 1 {
                context.writeAndFlush(wrapOutboundOut(part), promise: nil)
            } else {
                context.write(wrapOutboundOut(part), promise: nil)
            }
        }
        context.close(promise: nil)
    }
}
