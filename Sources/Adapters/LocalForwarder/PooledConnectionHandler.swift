import HopGatePorts
import NIOCore
import NIOHTTP1

/// The last handler of a pooled connection's pipeline, after ``HTTP1ResponseReader``: gathers
/// each read burst of response parts and hands it to the ``PooledHTTP1Connection`` at once (one
/// lock, at most one task wake-up per burst), and holds back socket reads while the exchange's
/// task is behind.
///
/// It also writes the requests' bytes (a head comes already in bytes: ``PooledRequestHead``; a
/// body goes chunked when its head says so) and tells the reader of each head's method, so a
/// request part crosses no other handler on its way to the socket.
final class PooledConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PooledRequestPart
    typealias OutboundOut = IOData

    private let connection: PooledHTTP1Connection
    private let reader: HTTP1ResponseReader
    private var burst: [HTTPClientResponsePart] = []
    private var burstBytes = 0
    /// The request being written has a chunked body.
    private var chunked = false

    init(connection: PooledHTTP1Connection, reader: HTTP1ResponseReader) {
        self.connection = connection
        self.reader = reader
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let bytes, let method, let chunked):
            self.chunked = chunked
            reader.requestSent(HTTPRequestHead(version: .http1_1, method: method, uri: ""))
            context.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
        case .body(let body):
            HTTP1ChunkedBody.write(body, chunked: chunked, context: context, promise: promise)
        case .end(let trailers):
            HTTP1ChunkedBody.writeEnd(trailers: trailers, chunked: chunked, context: context, promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .body(let bytes) = part { burstBytes += bytes.readableBytes }
        burst.append(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverBurst(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if connection.withholdsRead() { return }  // taking the parts issues the read again
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliverBurst(context: context)  // a response read to the close ends here
        connection.closed(PooledForwardingError(.connectionClosed))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        deliverBurst(context: context)
        connection.closed(error)
        context.close(promise: nil)
    }

    private func deliverBurst(context: ChannelHandlerContext) {
        guard !burst.isEmpty else { return }
        let parts = burst
        let bytes = burstBytes
        burst = []
        burstBytes = 0
        if !connection.deliver(parts, bytes: bytes) { context.close(promise: nil) }
    }
}
