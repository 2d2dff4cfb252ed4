import GRPCCore
import HopGatePorts
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf

/// Serves an Exchange stream of a tunnel that negotiated `exchange-reuse` on the stream's own
/// event loop, in place of grpc-swift's per-stream pipeline (its stream handler, async channel,
/// RPC executor and the tasks that read and write through them).
///
/// It sits first in every tunnel HTTP/2 stream's pipeline, before grpc-swift's handlers:
/// - A stream whose request is not an Exchange (the Control stream, an unknown method) passes
///   through untouched.
/// - An Exchange stream is held until its first message, the Attach. When it names a tunnel
///   that reuses its streams, with the right token, the handler takes the stream over: it
///   answers the headers, parks the stream in the tunnel's idle pool (``GRPCTunnelSession``)
///   and from then on reads and writes its messages itself. Anything else (a version 1
///   tunnel, a wrong token, a malformed start) is replayed to grpc-swift, which serves or
///   refuses it as before.
///
/// A taken-over stream's response parts go from the client's DATA frames straight to the
/// exchange's ``ResponsePartBatches``, with back-pressure: the handler stops reading while a
/// batch waits for the exchange. The exchange writes its request through
/// ``ExchangeStreamWriter``. The stream keeps the protocol's ordered end: a stream retired with
/// a Cancel ends when the client has ended its side (or after the grace), then the status goes
/// out in trailers, as grpc-swift would send it.
///
/// grpc-swift's own handler never sees a taken-over stream's headers, so its task for the
/// stream waits for a method that never comes, and ends when the stream closes.
final class ExchangeStreamHandler: ChannelDuplexHandler, RemovableChannelHandler, ExchangeMessageSink {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The Exchange method's path.
    static let exchangePath = "/" + Hopgate_Tunnel_V1_Tunnel.Method.Exchange.descriptor.fullyQualifiedMethod

    /// A taken-over stream.
    private struct Served {
        let session: GRPCTunnelSession
        let stream: ReusableExchangeStream
        let slot: GRPCTunnelSession.Slot
    }

    private enum Mode {
        /// Nothing has come yet.
        case awaitingHeaders
        /// An Exchange request, held (with its first DATA frames) until its Attach is whole.
        case awaitingAttach(held: [HTTP2Frame.FramePayload])
        /// Not ours: grpc-swift serves it.
        case passThrough
        case serving(Served)
        /// Its status went out, or the stream closed.
        case ended
    }

    private let service: GRPCTunnelService
    private var mode = Mode.awaitingHeaders
    private var deframer = GRPCMessageDeframer()
    /// The header fields of the responses read so far, made on the first (``HeaderFieldCache``).
    private var fieldCache: HeaderFieldCache?
    private var context: ChannelHandlerContext?
    private let ended = ExchangeStreamEnd()
    /// A batch of response parts waits for the exchange: nothing more is read from the client.
    private var readingPaused = false
    /// A read was asked for while reading was paused.
    private var readPending = false
    /// The client has ended its side; acted on once the messages before its end are taken.
    private var inputEnded = false
    private var graceTimer: Scheduled<Void>?
    private var writabilityWaiters = WritabilityWaiters()

    init(service: GRPCTunnelService) {
        self.service = service
    }

    /// Puts the handler (and, after it, a ``DataFrameCopier`` for the streams grpc-swift serves)
    /// first in a new tunnel stream's pipeline; for the server transport's `onAcceptHTTP2Stream`.
    static func install(on channel: any Channel, service: GRPCTunnelService) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(DataFrameCopier(), position: .first)
            try channel.pipeline.syncOperations.addHandler(ExchangeStreamHandler(service: service), position: .first)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        streamClosed()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch mode {
        case .passThrough:
            context.fireChannelRead(data)
        case .ended:
            break
        case .awaitingHeaders:
            guard case .headers(let headers) = payload, !headers.endStream, Self.isExchange(headers.headers) else {
                mode = .passThrough
                context.fireChannelRead(data)
                return
            }
            mode = .awaitingAttach(held: [payload])
        case .awaitingAttach(var held):
            held.append(payload)
            guard case .data(let frame) = payload, case .byteBuffer(let bytes) = frame.data, !frame.endStream else {
                replay(held, context: context)
                return
            }
            mode = .awaitingAttach(held: held)
            deframer.append(bytes)
            let first: ByteBuffer?
            do { first = try deframer.next() } catch {
                replay(held, context: context)
                return
            }
            guard let first else { return }
            guard case .attach(let attach)? = try? Hopgate_Tunnel_V1_ExchangeFromClient(serializedBytes: Array(first.readableBytesView)).kind,
                  let session = service.reusableSession(attachedBy: attach)
            else {
                replay(held, context: context)
                return
            }
            serve(on: session, context: context)
        case .serving(let served):
            switch payload {
            case .data(let frame):
                if case .byteBuffer(let bytes) = frame.data { deframer.append(bytes) }
                if frame.endStream { inputEnded = true }
                takeMessages(served, context: context)
            case .headers(let headers) where headers.endStream:
                inputEnded = true
                takeMessages(served, context: context)
            default:
                break
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        switch mode {
        case .passThrough, .awaitingHeaders: context.fireChannelReadComplete()
        case .awaitingAttach, .serving, .ended: break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writabilityWaiters.releaseAll(nil) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        streamClosed()
        context.fireChannelInactive()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if readingPaused, case .serving = mode {
            readPending = true
            return
        }
        context.read()
    }

    /// Writes framed messages of the exchange running on the stream (``ExchangeStreamWriter``);
    /// dropped once the stream has ended.
    func writeMessages(_ frames: ByteBuffer) {
        guard case .serving = mode, let context else { return }
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(frames)))), promise: nil)
        context.flush()
    }

    func waitUntilWritable(_ continuation: CheckedContinuation<Void, any Error>, id: UInt64) {
        guard case .serving = mode, let context else {
            writabilityWaiters.add(continuation, id: id, isWritable: false, failure: RPCError(code: .unavailable, message: "the exchange stream has ended"))
            return
        }
        writabilityWaiters.add(continuation, id: id, isWritable: context.channel.isWritable, failure: nil)
    }

    func cancelWritabilityWait(id: UInt64) {
        writabilityWaiters.cancel(id: id)
    }

    // MARK: Serving

    /// Takes the stream over for `session`: answers the headers, then parks the stream.
    private func serve(on session: GRPCTunnelSession, context: ChannelHandlerContext) {
        let stream = ReusableExchangeStream()
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let writer = ExchangeStreamWriter<ServerExchangeOutbound, ExchangeStreamHandler>(
            channel: context.channel, sink: handler, ended: ended)
        // Told on any thread, acted on in a later turn of the loop (never inside the session's
        // call that stops the stream).
        let slot = GRPCTunnelSession.Slot(writer: .direct(writer), reusable: stream) { error in
            eventLoop.execute { handler.value.stop(error) }
        }
        let served = Served(session: session, stream: stream, slot: slot)
        mode = .serving(served)
        var headers = HPACKHeaders()
        headers.add(name: ":status", value: "200")
        headers.add(name: "content-type", value: "application/grpc")
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        context.flush()
        session.streamAttached()
        session.parkServedByHandler(slot, on: eventLoop)
        takeMessages(served, context: context)
    }

    /// Hands the client's whole messages to the stream, until one waits for the exchange; after
    /// the last one before the client's end, ends the stream.
    private func takeMessages(_ served: Served, context: ChannelHandlerContext) {
        while !readingPaused, case .serving = mode {
            let bytes: ByteBuffer?
            do { bytes = try deframer.next() } catch {
                let reason = switch error {
                case .compressed: "a compressed exchange message (no compression was negotiated)"
                case .tooLarge(let length): "an exchange message of \(length) bytes, over the limit of \(deframer.maximumMessageBytes)"
                }
                end(served, context: context, status: RPCError(code: .resourceExhausted, message: reason))
                return
            }
            guard let bytes else { break }
            let message: Result<ExchangeMessageDecoding.Message, TunnelExchangeError>
            if fieldCache == nil { fieldCache = HeaderFieldCache() }
            do { message = try ExchangeMessageDecoding.decode(bytes, cache: fieldCache) } catch {
                end(served, context: context, status: RPCError(code: .invalidArgument, message: "an exchange message that is not valid protobuf (\(error.reason))"))
                return
            }
            switch served.stream.step(message) {
            case .turn(let turn):
                served.session.follow(turn, of: served.slot)
            case .unusable:
                served.session.unpark(served.slot)
            case .deliver(let parts, let inbound):
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                if !inbound.offer(parts, onTaken: { eventLoop.execute { handler.value.resumeReading() } }) {
                    readingPaused = true
                }
            }
        }
        guard !readingPaused, inputEnded, case .serving(let served) = mode else { return }
        // The client ended its side: the stream is done, whatever it was doing (a retirement's
        // wait ends here; a parked stream leaves the pool).
        clientSideOver(served, "the client ended the exchange without an end")
        end(served, context: context, status: nil)
    }

    /// The exchange took the batch that paused reading.
    private func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        guard case .serving(let served) = mode, let context else { return }
        takeMessages(served, context: context)
        if !readingPaused, readPending {
            readPending = false
            context.read()
        }
    }

    /// The session stopped the stream (its slot's `onStop`): retired after an exchange or from
    /// the idle pool, or refused (a draining or closed tunnel, a stream it may not park).
    private func stop(_ error: any Error) {
        guard case .serving(let served) = mode, let context else { return }
        switch error {
        case is GRPCTunnelSession.IdleStreamRetired:
            retire(served, context: context, reason: "the tunnel's idle pool shrinks")
        case let retirement as ReusableExchangeStream.Retirement:
            retire(served, context: context, reason: retirement.reason)
        default:
            if served.stream.clientHasEnded {
                end(served, context: context, status: nil)
            } else {
                end(served, context: context, status: error as? RPCError ?? RPCError(code: .unknown, message: "\(error)"))
            }
        }
    }

    /// Retires the stream in order: Cancel, then the client's end (or the grace's) ends it.
    private func retire(_ served: Served, context: ChannelHandlerContext, reason: String) {
        if served.stream.startRetiring() {
            end(served, context: context, status: nil)
            return
        }
        var frames = ByteBuffer()
        GRPCMessageFraming.append(ServerExchangeOutbound.cancel(reason: reason), to: &frames)
        writeMessages(frames)
        let grace = service.cancelGrace
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        graceTimer = context.eventLoop.scheduleTask(in: TimeAmount(grace)) {
            handler.value.graceIsOver(grace)
        }
    }

    private func graceIsOver(_ grace: Duration) {
        guard case .serving(let served) = mode, let context else { return }
        let status = RPCError(code: .cancelled, message: "the client did not end its exchange stream within \(grace) of the exchange's end")
        end(served, context: context, status: status)
    }

    /// Ends the stream with its status (nil: OK) in trailers. A stream whose client has not
    /// ended it is never parked again, and its running exchange, if any, fails.
    private func end(_ served: Served, context: ChannelHandlerContext, status: RPCError?) {
        mode = .ended
        stopWaiting(RPCError(code: .unavailable, message: "the exchange stream has ended"))
        if !served.stream.clientHasEnded {
            clientSideOver(served, status.map { "the exchange stream ended: \($0.message)" } ?? "the exchange stream ended")
        }
        var trailers = HPACKHeaders()
        trailers.add(name: "grpc-status", value: String(status?.code.rawValue ?? 0))
        if let status, !status.message.isEmpty { trailers.add(name: "grpc-message", value: Self.percentEncoded(status.message)) }
        context.write(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        context.flush()
        // Whatever the client still sends is read and dropped, so that its end can come.
        readingPaused = false
        if readPending {
            readPending = false
            context.read()
        }
    }

    /// The stream closed (reset, or its connection went): a taken-over stream's client side is
    /// over, and it leaves the pool.
    private func streamClosed() {
        stopWaiting(RPCError(code: .unavailable, message: "the exchange stream has closed"))
        switch mode {
        case .serving(let served):
            mode = .ended
            clientSideOver(served, "the exchange stream failed: it closed")
        case .awaitingAttach:
            mode = .ended
        case .awaitingHeaders, .passThrough, .ended:
            break
        }
    }

    /// The client's side of the stream is over (`reason` fails its running exchange): the
    /// stream leaves the pool and is never parked again.
    private func clientSideOver(_ served: Served, _ reason: String) {
        served.session.follow(served.stream.clientEnded(TunnelExchangeError(.tunnelFailed, reason)), of: served.slot)
        served.session.unpark(served.slot)
    }

    /// The stream has ended: writers stop (waiting ones with `error`) and the grace timer with it.
    private func stopWaiting(_ error: any Error) {
        ended.markEnded()
        graceTimer?.cancel()
        graceTimer = nil
        writabilityWaiters.releaseAll(error)
    }

    /// Hands a stream that is not ours to grpc-swift: what was held, in order.
    private func replay(_ held: [HTTP2Frame.FramePayload], context: ChannelHandlerContext) {
        mode = .passThrough
        deframer = GRPCMessageDeframer()
        for payload in held { context.fireChannelRead(wrapInboundOut(payload)) }
        context.fireChannelReadComplete()
    }

    // MARK: gRPC details

    /// An Exchange request the handler may serve: gRPC, uncompressed.
    static func isExchange(_ headers: HPACKHeaders) -> Bool {
        guard headers.first(name: ":path") == exchangePath,
              headers.first(name: "content-type")?.hasPrefix("application/grpc") == true
        else { return false }
        if let encoding = headers.first(name: "grpc-encoding"), encoding != "identity" { return false }
        return true
    }

    /// A status message as `grpc-message` carries it: printable ASCII but `%` as is, every
    /// other UTF-8 byte percent-encoded.
    static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return encoded
    }
}
