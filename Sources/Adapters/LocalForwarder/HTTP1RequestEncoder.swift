import HopGatePorts
import NIOCore
import NIOHTTP1

/// NIO's `HTTPRequestEncoder` (its default configuration: framing headers set automatically),
/// with each head written in one call into one buffer of its size (``HTTP1HeadCursor``). NIO
/// writes a head field by field, and its 256-byte buffer grows once for a forwarded request's
/// head. The bytes on the wire are NIO's, byte for byte (`HTTP1RequestEncoderTests` compares
/// them).
///
/// Takes NIOHTTP1's parts, like NIO's encoder, because the response decoder above it watches the
/// requests go out (a `HEAD` answer has no body).
final class HTTP1RequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    /// The request's body goes out in chunked coding.
    private var isChunked = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        Self.write(unwrapOutboundIn(data), chunked: &isChunked, context: context, promise: promise)
    }

    /// Writes `part`'s bytes to `context` as `IOData`; `chunked` carries from a head to its body
    /// parts and end. Returns the head as framed (for a decoder that must see it), else nil.
    @discardableResult
    static func write(
        _ part: HTTPClientRequestPart, chunked: inout Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) -> HTTPRequestHead? {
        switch part {
        case .head(var head):
            chunked = frame(&head)
            context.write(NIOAny(IOData.byteBuffer(bytes(of: head, allocator: context.channel.allocator))), promise: promise)
            return head
        case .body(let body):
            HTTP1ChunkedBody.write(body, chunked: chunked, context: context, promise: promise)
        case .end(let trailers):
            HTTP1ChunkedBody.writeEnd(trailers: trailers, chunked: chunked, context: context, promise: promise)
        }
        return nil
    }

    /// Sets `head`'s framing fields as NIO's encoder does, and tells whether the body is chunked:
    /// a `TRACE` has no body; a `Content-Length` wins over `Transfer-Encoding`; a `POST`, `PUT`
    /// or `PATCH` without a length is chunked (HTTP/1.1); any other method keeps what it says.
    static func frame(_ head: inout HTTPRequestHead) -> Bool {
        let atLeastHTTP11 = head.version.major == 1 && head.version.minor >= 1
        switch head.method {
        case .TRACE:
            head.headers.remove(name: "content-length")
            head.headers.remove(name: "transfer-encoding")
            return false
        case .POST, .PUT, .PATCH:
            if head.headers.contains(name: "content-length") {
                head.headers.remove(name: "transfer-encoding")
                return false
            }
            guard atLeastHTTP11 else { return false }
            head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            return true
        default:
            if head.headers.contains(name: "content-length") {
                head.headers.remove(name: "transfer-encoding")
                return false
            }
            return atLeastHTTP11 && head.headers.first(name: "transfer-encoding") == "chunked"
        }
    }

    /// The head's bytes: request line, field lines, empty line.
    static func bytes(of head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        HTTP1HeadCursor.head(head.method.rawValue, head.uri, HTTP1HeadCursor.version(head.version.major, head.version.minor), fields: head.headers, allocator: allocator)
    }
}
