import HopGatePorts
package import NIOCore
package import NIOHTTP1

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
