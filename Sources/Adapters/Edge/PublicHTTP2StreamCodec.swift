import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import Synchronization

/// Whether an HTTP/2 request's HEADERS frame ended its stream (END_STREAM): the request then
/// has no body, which its head alone cannot tell (unlike HTTP/1.1's framing fields).
final class HTTP2RequestEnd: Sendable {
    private let endedWithHead = Atomic(false)
    /// Set on the stream's event loop before the head reaches the request's reader.
    var endsWithHead: Bool { endedWithHead.load(ordering: .acquiring) }
    fileprivate func markEndedWithHead() { endedWithHead.store(true, ordering: .releasing) }
}

/// A public HTTP/2 stream's frames as request parts in, and response parts as frames out: the one
/// handler between the stream channel and its ``WebPartHandler``.
///
/// It checks each received header block as it converts it (``HTTP2WebConversion``), since the
/// edge's HTTP/2 handler no longer validates blocks (see ``HTTP2FieldBlockCheck``): a malformed
/// request or trailer block resets the stream with `PROTOCOL_ERROR` (RFC 9113 §8.1.1) and reaches
/// the reader as an error naming the field, never as a request. It also notes in an
/// ``HTTP2RequestEnd`` whether the request ended with its head.
///
/// In place of two handlers: swift-nio-extras' `HTTP2FramePayloadToHTTPServerCodec` and our
/// end-of-request observer, whose hops between handlers (a cast out of `NIOAny` and a wrap into
/// it, a call through the pipeline, per part) cost more than their work.
final class PublicHTTP2StreamCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        /// No HEADERS yet.
        case awaitingHead
        /// The head came; body parts or trailers follow.
        case body
        /// The request ended (or was refused): anything more is ignored.
        case ended
    }

    private let end: HTTP2RequestEnd
    private var state = State.awaitingHead

    init(_ end: HTTP2RequestEnd) { self.end = end }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.awaitingHead, .headers(let headers)):
            let request: HTTPRequest
            do {
                request = try HTTP2WebConversion.request(from: headers.headers)
            } catch {
                return refuse(error, context: context)
            }
            if headers.endStream {
                end.markEndedWithHead()
                state = .ended
            } else {
                state = .body
            }
            context.fireChannelRead(wrapInboundOut(.head(request)))
            if headers.endStream { context.fireChannelRead(wrapInboundOut(.end(nil))) }
        case (.body, .headers(let headers)):
            guard headers.endStream else {
                return refuse(.init(description: "a header block after the request's head that does not end the stream"), context: context)
            }
            let trailers: HTTPFields
            do {
                trailers = try HTTP2WebConversion.trailers(from: headers.headers)
            } catch {
                return refuse(error, context: context)
            }
            state = .ended
            context.fireChannelRead(wrapInboundOut(.end(trailers)))
        case (.body, .data(let data)):
            guard case .byteBuffer(let buffer) = data.data else { return }  // received data is always a buffer
            if buffer.readableBytes > 0 || !data.endStream {
                context.fireChannelRead(wrapInboundOut(.body(buffer)))
            }
            if data.endStream {
                state = .ended
                context.fireChannelRead(wrapInboundOut(.end(nil)))
            }
        case (.awaitingHead, .data):
            // NIO's stream state machine refuses DATA before HEADERS: never seen here.
            refuse(.init(description: "DATA before the request's head"), context: context)
        default:
            break  // other frames (WINDOW_UPDATE, PRIORITY, …), or anything after the end
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload: HTTP2Frame.FramePayload
        switch unwrapOutboundIn(data) {
        case .head(let response):
            payload = .headers(.init(headers: HTTP2WebConversion.headers(of: response)))
        case .body(let buffer):
            payload = .data(.init(data: .byteBuffer(buffer)))
        case .end(nil):
            payload = .data(.init(data: .byteBuffer(context.channel.allocator.buffer(capacity: 0)), endStream: true))
        case .end(let trailers?):
            payload = .headers(.init(headers: HTTP2WebConversion.headers(ofTrailers: trailers), endStream: true))
        }
        context.write(wrapOutboundOut(payload), promise: promise)
    }

    /// A malformed request: the reader learns why (its error names the field), the client gets
    /// `RST_STREAM` with `PROTOCOL_ERROR`, and the stream closes (NIO closes a stream's channel
    /// once the stream is reset; the reader closes it too when it sees the error).
    private func refuse(_ problem: HTTP2FieldBlockCheck.Problem, context: ChannelHandlerContext) {
        state = .ended
        context.fireErrorCaught(problem)
        context.writeAndFlush(wrapOutboundOut(.rstStream(.protocolError)), promise: nil)
    }
}
