import NIOCore
import NIOHTTP1

/// Answers malformed HTTP/1.1 input (smuggling attempts, bad chunk sizes, oversized heads …) and
/// closes the connection, instead of NIO's `HTTPServerProtocolErrorHandler`.
///
/// NIO's handler sends `400` whenever no response has started — even when the request head was
/// already handed to the application, which then answers too: two responses for one request
/// (a debug-build assertion in `HTTPServerPipelineHandler`, a garbled stream in release). Here a
/// status is only sent when the error is in a request head the application never saw: `431`
/// when the head is too large, `400` otherwise. When the application has the request (a body
/// turned out malformed), the connection is closed without a word and whatever the application
/// still writes is dropped.
final class HTTPParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests whose head went to the application and whose response has not ended.
    private var requestsInFlight = 0
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { requestsInFlight += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .end = unwrapOutboundIn(data) { requestsInFlight = max(0, requestsInFlight - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !failed else {
            context.fireErrorCaught(error)
            return
        }
        failed = true
        if requestsInFlight == 0 {
            let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
        context.fireErrorCaught(error)
    }
}
