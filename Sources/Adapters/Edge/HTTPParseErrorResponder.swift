import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP1

/// Answers malformed HTTP/1.1 input (smuggling attempts, bad chunk sizes, oversized heads …) and
/// closes the connection, instead of NIO's `HTTPServerProtocolErrorHandler`
/// (``PublicHTTP1Handler`` tells it what passes and asks it for the answer).
///
/// NIO's handler sends `400` whenever no response has started — even when the request head was
/// already handed to the application, which then answers too: two responses for one request
/// (a debug-build assertion in `HTTPServerPipelineHandler`, a garbled stream in release). Here a
/// status is sent only while no response head has gone out: `431` when a request head is too
/// large, `400` otherwise — also when the application has the request and its body turns out
/// malformed (an invalid chunk size), as nginx does. The connection is then closed and whatever
/// the application still writes is dropped. Once a response head has gone out, the connection is
/// closed without a word.
struct HTTPParseErrorResponder {
    /// Requests whose head went to the application and whose response has not ended.
    private var requestsInFlight = 0
    /// A final (non-1xx) response head went out for the request in flight.
    private var responseStarted = false
    /// The request in flight's header fields (`Accept`, `X-Request-Id` choose the error page).
    private var requestHeaders = HTTPHeaders()
    /// A parse error was answered: the connection is closing, nothing more goes out.
    private(set) var failed = false

    /// A request head goes to the application.
    mutating func requestArrived(_ head: HTTPRequestHead) {
        requestsInFlight += 1
        requestHeaders = head.headers
    }

    /// A response head with this status goes out.
    mutating func responseHeadWritten(status: Int) {
        if status >= 200 { responseStarted = true }
    }

    /// A response part goes out.
    mutating func responseWritten(_ part: HTTPServerResponsePart) {
        switch part {
        case .head(let head): responseHeadWritten(status: Int(head.status.code))
        case .end:
            requestsInFlight = max(0, requestsInFlight - 1)
            responseStarted = false
        default: break
        }
    }

    /// What to write for `error` before closing: nil when it is not a parse error (or one was
    /// already answered), so the caller passes it on; else the parts, maybe none.
    mutating func answer(to error: any Error) -> [HTTPServerResponsePart]? {
        guard let parserError = error as? HTTPParserError, !failed else { return nil }
        failed = true
        if requestsInFlight == 0 {
            let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
            return [.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), .end(nil)]
        }
        guard !responseStarted else { return [] }
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
        return [.head(head), .body(.byteBuffer(body)), .end(nil)]
    }
}
