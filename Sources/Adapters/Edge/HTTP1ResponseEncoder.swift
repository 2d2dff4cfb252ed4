package import HTTPTypes
import HopGatePorts
package import NIOCore
package import NIOHTTP1
import NIOHTTPTypesHTTP1

/// NIO's `HTTPResponseEncoder` as the edge uses it, called by ``PublicHTTP1Handler`` rather than
/// run as a handler of its own (one handler fewer for every response part), with each head
/// written in one call into one buffer of its size (``HTTP1HeadCursor``): NIO writes a head
/// field by field — measured with callgrind, ≈ 11,800 instructions per small response for the
/// encoder, 7,800 of them writing the fields. The bytes on the wire are NIO's, byte for byte
/// (`HTTP1ResponseEncoderTests` compares them).
///
/// "As the edge uses it": NIO's encoder learns request methods only from a decoder made with it
/// (`configureHTTPServerPipeline`), and the edge's decoder is made on its own, so NIO never knew
/// a `HEAD` from a `GET` here either. The router answers a `HEAD` without a body itself.
package struct HTTP1ResponseEncoder {
    /// The response's body goes out in chunked coding.
    private var isChunked = false

    package init() {}

    /// Writes `part`'s bytes through `context` (to the handler after the caller's);
    /// `promise` completes with the part's last write.
    package mutating func write(_ part: HTTPServerResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(var head):
            isChunked = Self.frame(&head)
            let bytes = HTTP1HeadCursor.head(
                HTTP1HeadCursor.version(head.version.major, head.version.minor), String(head.status.code), head.status.reasonPhrase,
                fields: head.headers, allocator: context.channel.allocator)
            context.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
        case .body(let body):
            HTTP1ChunkedBody.write(body, chunked: isChunked, context: context, promise: promise)
        case .end(let trailers):
            HTTP1ChunkedBody.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
        }
    }

    /// Writes `response`'s head as ``write(_:context:promise:)`` writes the head NIOHTTPTypes
    /// makes of it (`HTTPResponseHead(response)`: HTTP/1.1, NIO's reason phrase for a status it
    /// knows) — byte for byte — without making that head: an `HTTPHeaders` of the fields, a
    /// storage object, and `HTTPHeaders` look-ups for the framing and the field lines
    /// (≈ 2,400 instructions a small response, callgrind).
    ///
    /// A head with `Connection` or `Transfer-Encoding` (rare: the client drops both, but for an
    /// upgrade's `Connection`) goes the long way, so that NIO's rules for them apply unchanged.
    /// - Parameter closing: the connection closes after this response; a keep-alive head then
    ///   says `connection: close` (what `replaceOrAdd` did to NIO's head).
    package mutating func writeHead(
        _ response: HTTPResponse, closing: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        // One pass over the fields: their lines, and the framing fields among them. (Looking
        // each framing field up by name scanned the fields again, ≈ 400 instructions a look-up.)
        let status = HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase)
        let bodyless = !status.mayHaveResponseBody
        var lines: [(name: String, value: String)] = []
        lines.reserveCapacity(response.headerFields.count + 2)
        var hasLength = false
        for field in response.headerFields {
            switch Self.framingField(field.name.canonicalName) {
            case .connection, .transferEncoding:
                writeHeadOfNIO(response, closing: closing, context: context, promise: promise)
                return
            case .contentLength:
                hasLength = true
                if bodyless { continue }
            case nil:
                break
            }
            lines.append((name: field.name.rawName, value: field.value))
        }
        // What `frame` does to a head with neither `Connection` nor `Transfer-Encoding`, which
        // HTTP/1.1 keeps alive.
        if closing { lines.append((name: "connection", value: "close")) }
        isChunked = !bodyless && !hasLength
        if isChunked { lines.append((name: "transfer-encoding", value: "chunked")) }
        let bytes = HTTP1HeadCursor.head("HTTP/1.1", String(status.code), status.reasonPhrase, fields: lines, allocator: context.channel.allocator)
        context.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
    }

    /// The long way: the head NIOHTTPTypes makes of `response`, written by ``write(_:context:promise:)``.
    private mutating func writeHeadOfNIO(
        _ response: HTTPResponse, closing: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        var head = HTTPResponseHead(response)
        if closing, head.isKeepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        write(.head(head), context: context, promise: promise)
    }

    /// The fields whose presence changes how a head is framed.
    private enum FramingField { case connection, transferEncoding, contentLength }

    /// Which framing field a (lower-cased) name is, if any; by length first.
    private static func framingField(_ canonicalName: String) -> FramingField? {
        switch canonicalName.utf8.count {
        case 10 where canonicalName == "connection": .connection
        case 17 where canonicalName == "transfer-encoding": .transferEncoding
        case 14 where canonicalName == "content-length": .contentLength
        default: nil
        }
    }

    /// Sets `head`'s framing fields as NIO's encoder does, and tells whether the body is chunked:
    /// a status without a body (1xx, 204, 304) loses both; a `Content-Length` wins over
    /// `Transfer-Encoding`; otherwise an HTTP/1.1 body is chunked.
    static func frame(_ head: inout HTTPResponseHead) -> Bool {
        guard head.status.mayHaveResponseBody else {
            head.headers.remove(name: "content-length")
            head.headers.remove(name: "transfer-encoding")
            return false
        }
        if head.headers.contains(name: "content-length") {
            // Looked for first: `remove` copies the fields even when none goes (≈ 1,400
            // instructions for a small response's head, callgrind), and a response with a
            // length rarely says `Transfer-Encoding` too.
            if head.headers.contains(name: "transfer-encoding") { head.headers.remove(name: "transfer-encoding") }
            return false
        }
        guard head.version.major == 1, head.version.minor >= 1 else { return false }
        head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        return true
    }
}
