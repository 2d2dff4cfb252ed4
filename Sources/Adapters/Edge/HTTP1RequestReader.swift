import NIOCore
import NIOHTTP1

/// Reads a public connection's HTTP/1.1 requests with NIO's `HTTPRequestDecoder` (llhttp),
/// driven directly instead of through `ByteToMessageHandler`.
///
/// `ByteToMessageHandler` is generic over its decoder and NIO's copy is not specialized for
/// ours: callgrind counted ≈ 2,600 instructions per small request in its decode loop's own
/// plumbing on the edge (the client's pooled connections dropped it for the same reason,
/// `HTTP1ResponseReader`).
///
/// What it keeps of `ByteToMessageHandler`:
/// - bytes the parser has not consumed wait for the next read;
/// - at the close the parser is told of the end of input once;
/// - a parse error is passed on as `errorCaught`, and nothing more is parsed;
/// - after an upgrade request the parser stops, and when the connection switches protocols this
///   handler leaves last, passing on the bytes that followed the request (NIO's
///   `.forwardBytes`);
/// - a removal asked for while the parser is handing parts on waits until it returns.
final class HTTP1RequestReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart

    private let decoder = HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)
    /// Bytes read but not yet consumed by the parser.
    private var unconsumed: ByteBuffer?
    /// A parse error was passed on, or the input ended: nothing more is parsed.
    private var done = false
    /// The parser is handing parts on (re-entrant calls must wait).
    private var decoding = false
    /// A removal asked for while decoding, carried out when the parser returns.
    private var pendingRemoval: ChannelHandlerContext.RemovalToken?

    func handlerAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if decoding {
            pendingRemoval = removalToken
            return
        }
        leave(context: context, removalToken: removalToken)
    }

    /// Passes on what followed an upgrade request, then leaves the pipeline.
    private func leave(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if !done, var bytes = unconsumed, bytes.readableBytes > 0 {
            unconsumed = nil
            done = true
            do {
                _ = try decoder.decodeLast(context: context, buffer: &bytes, seenEOF: false)
            } catch {
                context.fireErrorCaught(error)
            }
        }
        context.leavePipeline(removalToken: removalToken)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var bytes = unwrapInboundIn(data)
        if var earlier = unconsumed {
            unconsumed = nil
            earlier.writeImmutableBuffer(bytes)
            bytes = earlier
        }
        decoding = true
        do {
            _ = try decoder.decode(context: context, buffer: &bytes)
        } catch {
            decoding = false
            fail(error, context: context)
            finishPendingRemoval(context: context)
            return
        }
        decoding = false
        if bytes.readableBytes > 0 { unconsumed = bytes }
        finishPendingRemoval(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            var bytes = unconsumed ?? context.channel.allocator.buffer(capacity: 0)
            unconsumed = nil
            decoding = true
            do {
                _ = try decoder.decodeLast(context: context, buffer: &bytes, seenEOF: true)
            } catch {
                context.fireErrorCaught(error)
            }
            decoding = false
        }
        context.fireChannelInactive()
        finishPendingRemoval(context: context)
    }

    private func finishPendingRemoval(context: ChannelHandlerContext) {
        guard let token = pendingRemoval else { return }
        pendingRemoval = nil
        leave(context: context, removalToken: token)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        done = true
        unconsumed = nil
        context.fireErrorCaught(error)
    }
}
