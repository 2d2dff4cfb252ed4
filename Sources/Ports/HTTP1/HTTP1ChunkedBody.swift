public import NIOCore

/// How the edge's and the client's own HTTP/1.1 encoders write a body part, as NIO's encoders
/// do: as it is, or in chunked coding (size line, bytes, CRLF; an empty part writes nothing).
public enum HTTP1ChunkedBody {
    /// Writes `body` through `context`, chunked when `chunked`; `promise` completes with the
    /// part's last write (writes complete in order).
    @inlinable
    public static func write(_ body: IOData, chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard chunked, body.readableBytes > 0 else {
            context.write(NIOAny(body), promise: promise)
            return
        }
        var sizeLine = context.channel.allocator.buffer(capacity: 20)
        sizeLine.writeString(String(body.readableBytes, radix: 16))
        sizeLine.writeStaticString("\r\n")
        context.write(NIOAny(IOData.byteBuffer(sizeLine)), promise: nil)
        context.write(NIOAny(body), promise: nil)
        sizeLine.moveReaderIndex(forwardBy: sizeLine.readableBytes - 2)
        context.write(NIOAny(IOData.byteBuffer(sizeLine)), promise: promise)
    }
}

extension HTTP1ChunkedBody {
    /// Writes a body's end through `context`: when `chunked`, the last chunk with the trailers;
    /// else nothing — an empty write only to complete `promise` in order.
    @inlinable
    public static func writeEnd(
        trailers: (some Collection<(name: String, value: String)>)?, chunked: Bool,
        context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        if chunked {
            let allocator = context.channel.allocator
            let lastChunk = trailers.map { HTTP1HeadCursor.lastChunk(trailers: $0, allocator: allocator) }
                ?? HTTP1HeadCursor.lastChunk(trailers: EmptyCollection(), allocator: allocator)
            context.write(NIOAny(IOData.byteBuffer(lastChunk)), promise: promise)
        } else if let promise {
            context.write(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
        }
    }
}
