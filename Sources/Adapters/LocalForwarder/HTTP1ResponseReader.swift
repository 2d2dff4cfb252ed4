import NIOCore
import NIOHTTP1

/// Reads a local service's HTTP/1.1 responses with NIO's `HTTPResponseDecoder` (llhttp), driven
/// directly instead of through `ByteToMessageHandler`.
///
/// `ByteToMessageHandler` is generic over its decoder, and NIO's copy is not specialized for
/// ours: callgrind counted ≈ 3,800 instructions in its `write` per request part it observed
/// (type metadata looked up at run time, a generic `unwrapOutboundIn`) — two parts per
/// request — and ≈ 1,700 per read in its decode loop's own plumbing. This handler is inbound
/// only, so request parts never pass it: whoever writes them reports each head with
/// ``requestSent(_:)`` (the decoder must know which answer belongs to a `HEAD`: it has no body).
///
/// What it keeps of `ByteToMessageHandler`: bytes the parser has not consumed wait for the next
/// read; at the close the parser is told of the end of input (a response delimited by the
/// close ends there); a parse error is passed on as `errorCaught` and nothing more is read.
final class HTTP1ResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPClientResponsePart

    private let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)
    /// Bytes read but not yet consumed by the parser.
    private var unconsumed: ByteBuffer?
    /// A parse error was passed on, or the input ended: nothing more is parsed (the parser must
    /// not be told of the end twice).
    private var done = false

    /// The decoder learns of a request going out, in order.
    func requestSent(_ head: HTTPRequestHead) {
        decoder.write(data: .head(head))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var bytes = unwrapInboundIn(data)
        if var earlier = unconsumed {
            unconsumed = nil
            earlier.writeImmutableBuffer(bytes)
            bytes = earlier
        }
        do {
            _ = try decoder.decode(context: context, buffer: &bytes)
        } catch {
            fail(error, context: context)
            return
        }
        if bytes.readableBytes > 0 { unconsumed = bytes }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            var bytes = unconsumed ?? context.channel.allocator.buffer(capacity: 0)
            unconsumed = nil
            do {
                _ = try decoder.decodeLast(context: context, buffer: &bytes, seenEOF: true)
            } catch {
                fail(error, context: context)
            }
        }
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        done = true
        unconsumed = nil
        context.fireErrorCaught(error)
    }
}
