import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP1

/// Answers malformed HTTP/1.1 input (smuggling attempts, bad chunk sizes, oversized heads …) and
/// closes the connection, instead of NIO's `HTTPServerProtocolErrorHandler`.
///
/// NIO's handler sends `400` whenever no response has started — even when the request head was
/// already handed to the application, which then answers too: two responses for one request
/// (a debug-build assertion in `HTTPServerPipelineHandler`, a garbled stream in release). Here a
/// status is sent only while no response head has gone out: `431` when a request head is too
/// large, `400` otherwise — also when the application has the request and its body turns out
/// malformed (an invalid chunk size), as nginx does. The connection is then closed and whatever
/// the application still writes is dropped. Once a response head has gone out, the connection is
/// closed without a word.
final class HTTPParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests whose head went to the application and whose response has not ended.
    private var requestsInFlight = 0
    /// A final (non-1xx) response head went out for the request in flight.
    private var responseStarted = false
    /// The request in flight's header fields (`Accept`, `X-Request-Id` choose the error page).
    private var requestHeaders = HTTPHeaders()
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            requestsInFlight += 1
            requestHeaders = head.headers
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responseStarted = true
        case .end:
            requestsInFlight = max(0, requestsInFlight - 1)
            responseStarted = false
        default: break
        }
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
        } else if !responseStarted {
            // The body's framing broke after the application took the request: answer for it.
            var pageFields = HTTPFields()
            for name in ["Accept", "X-Request-Id"] {
                for value in requestHeaders[name] { pageFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            }
            let (response, body) = ErrorPage.badRequest.response(
                for: pageFields, requestID: RequestID.accepting(pageFields[HTTPField.Name("X-Request-Id")!]))
            var headers = HTTPHeaders(response.headerFields.map { ($0.name.rawName, $0.value) })
            headers.replaceOrAdd(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
        context.fireErrorCaught(error)
    }
}
