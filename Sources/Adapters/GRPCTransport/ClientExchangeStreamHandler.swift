import GRPCCore
import HTTPTypes
import HopGatePorts
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import SwiftProtobuf

/// What a client's Exchange streams share: the tunnel's handler of requests and what was
/// negotiated in its hello.
struct ClientExchangeStreamSettings: Sendable {
    let handler: any ExchangeHandler
    let attach: Hopgate_Tunnel_V1_Attach
    let coalescing: Bool
    let pool: ClientExchangePool
    let placement: ClientExchangePlacement
    /// Opens this many more streams (the pool's task; zero wakes nobody).
    let open: @Sendable (Int) -> Void
    let logger: Logger
}

/// Serves one reusable Exchange stream (`exchange-reuse`) of the client on the stream's event
/// loop — the tunnel connection's — in place of grpc-swift's client call: its stream handler,
/// async channel, RPC executor and the tasks that read and write through them.
/// ``ClientTunnelConnection`` opens the stream with this handler as its whole pipeline.
///
/// It sends the request headers and the Attach, then cuts the server's DATA into messages:
/// - a request head starts the exchange in a task of its own (the one task an exchange costs),
///   which runs the tunnel's ``ExchangeHandler`` and writes the response straight to the stream
///   through ``ExchangeStreamWriter``; the next head waits until that task is done;
/// - request body parts go to the exchange's ``OneSlotChannel`` with back-pressure: while a part
///   waits behind a full slot, the handler stops reading (the server is held back by the HTTP/2
///   window);
/// - a Cancel cancels the running exchange, or retires the idle stream.
///
/// The stream keeps the protocol's ordered end (see tunnel.proto): the client half-closes after
/// an exchange that did not end cleanly (with its Failure, if one may still be sent), when the
/// server retires the idle stream, or when the server has ended its side; never with a reset.
///
/// Every exchange task it starts is either done before the next starts (it tells the handler
/// so as its last step) or cancelled when the stream closes, and the task that owns the stream
/// awaits the last one (``ClientExchangeTasks``).
final class ClientExchangeStreamHandler: ChannelDuplexHandler, ExchangeMessageSink {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Where the stream's current exchange stands (the server may reuse the stream after it).
    private enum Phase {
        case running
        /// A Cancel came while it ran: its task is cancelled, and the stream ends after it.
        case cancelRequested
        /// It ended cleanly: the stream takes the next request.
        case released
        /// The stream is ending.
        case ending
    }

    private struct Exchange {
        /// Where the request's body parts go; nil when its end came with its head.
        let body: OneSlotChannel<ExchangeRequestPart>?
        var requestEnded: Bool
        var phase = Phase.running
        /// Running; nil once the task has said it is done.
        var task: Task<Void, Never>?
    }

    /// Why messages are not taken from the stream for now.
    private enum Pause {
        /// A request body part waits behind the exchange's full slot (the offer's number).
        case bodyPart(UInt64)
        /// A request head waits for the previous exchange's task to be done.
        case previousExchange
    }

    private let settings: ClientExchangeStreamSettings
    private let requestHeaders: HPACKHeaders
    private let tasks: ClientExchangeTasks
    private var context: ChannelHandlerContext?
    private var deframer = GRPCMessageDeframer()
    /// The header fields of the requests read so far, made on the first (``HeaderFieldCache``).
    private var fieldCache: HeaderFieldCache?
    private let ended = ExchangeStreamEnd()
    private var writabilityWaiters = WritabilityWaiters()

    private var started = false
    private var responseHeadersSeen = false
    /// The server ended its side; acted on once the messages before its end are taken.
    private var serverEnded = false
    /// This side sent its end (END_STREAM).
    private var ourSideEnded = false
    private var closed = false
    /// The server broke the protocol: whatever else it sends is dropped.
    private var discarding = false
    private var current: Exchange?
    /// A message taken from the stream and not handled yet (a head behind a running exchange).
    private var held: ServerExchangeMessage?
    private var pause: Pause?
    private var offers: UInt64 = 0
    /// A read was asked for while paused.
    private var readPending = false

    init(settings: ClientExchangeStreamSettings, requestHeaders: HPACKHeaders, tasks: ClientExchangeTasks) {
        self.settings = settings
        self.requestHeaders = requestHeaders
        self.tasks = tasks
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        streamClosed()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        streamClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settings.logger.debug("exchange stream failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Sends the request headers and the Attach, once.
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        var frames = ByteBuffer()
        GRPCMessageFraming.append(ClientExchangeOutbound.attach(tunnelID: settings.attach.tunnelID, token: settings.attach.exchangeToken), to: &frames)
        context.write(wrapOutboundOut(.headers(.init(headers: requestHeaders))), promise: nil)
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(frames)))), promise: nil)
        context.flush()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if !responseHeadersSeen {
                responseHeadersSeen = true
                if !headers.endStream, headers.headers.first(name: ":status") != "200" {
                    settings.logger.debug("exchange stream refused", metadata: ["status": "\(headers.headers.first(name: ":status") ?? "-")"])
                    context.close(promise: nil)
                    return
                }
            }
            guard headers.endStream else { return }
            if let status = headers.headers.first(name: "grpc-status"), status != "0" {
                settings.logger.debug("exchange stream ended", metadata: [
                    "grpc-status": "\(status)", "grpc-message": "\(headers.headers.first(name: "grpc-message") ?? "")",
                ])
            }
            serverEnded = true
        case .data(let frame):
            if !discarding, case .byteBuffer(let bytes) = frame.data { deframer.append(bytes) }
            if frame.endStream { serverEnded = true }
        default:
            return
        }
        takeMessages(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writabilityWaiters.releaseAll(nil) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if pause != nil {
            readPending = true
            return
        }
        context.read()
    }

    func writeMessages(_ frames: ByteBuffer) {
        guard !ourSideEnded, !closed, let context else { return }
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(frames)))), promise: nil)
        context.flush()
    }

    func waitUntilWritable(_ continuation: CheckedContinuation<Void, any Error>, id: UInt64) {
        guard !ourSideEnded, !closed, let context else {
            writabilityWaiters.add(continuation, id: id, isWritable: false, failure: RPCError(code: .unavailable, message: "the exchange stream has ended"))
            return
        }
        writabilityWaiters.add(continuation, id: id, isWritable: context.channel.isWritable, failure: nil)
    }

    func cancelWritabilityWait(id: UInt64) {
        writabilityWaiters.cancel(id: id)
    }

    // MARK: Serving

    /// Handles the server's whole messages until one has to wait; after the last one before the
    /// server's end, ends this side too.
    private func takeMessages(context: ChannelHandlerContext) {
        while pause == nil, !closed {
            let message: ServerExchangeMessage
            if let waiting = held {
                held = nil
                message = waiting
            } else {
                let bytes: ByteBuffer?
                do { bytes = try deframer.next() } catch {
                    let reason = switch error {
                    case .compressed: "the server sent a compressed exchange message (no compression was negotiated)"
                    case .tooLarge(let length): "the server sent an exchange message of \(length) bytes, over the limit of \(deframer.maximumMessageBytes)"
                    }
                    abandon(reason)
                    return
                }
                guard let bytes else { break }
                if fieldCache == nil { fieldCache = HeaderFieldCache() }
                do { message = try ServerExchangeMessage.decode(bytes, cache: fieldCache) } catch {
                    abandon("the server sent an exchange message that is not valid protobuf (\(error.reason))")
                    return
                }
            }
            handle(message, context: context)
        }
        guard pause == nil, serverEnded, !closed else { return }
        // The server's side is over: an exchange still running has nobody to answer.
        if let exchange = current, let task = exchange.task {
            exchange.body?.finish()
            task.cancel()
        }
        endOurSide(failure: nil)
    }

    private func handle(_ message: ServerExchangeMessage, context: ChannelHandlerContext) {
        switch message {
        case .head(let head):
            if let previous = current {
                // Reused: the previous exchange's End crossed, so its task is ending.
                guard previous.task == nil else {
                    held = message
                    pause = .previousExchange
                    return
                }
                guard previous.phase == .released else { return }  // the stream is ending
            }
            guard !ourSideEnded else { return }
            let request: ExchangeRequestHead
            let end: HTTPFields??
            switch head {
            case .success(let head): (request, end) = head
            case .failure(let error):
                abandon("the server sent a request head the client cannot read: \(error)")
                return
            }
            // `request-end-in-head`: the body is over before the handler looks, and needs no
            // channel to the exchange's task.
            var exchange = Exchange(body: end == nil ? OneSlotChannel() : nil, requestEnded: end != nil)
            settings.open(settings.pool.streamTaken())
            exchange.task = startExchange(request, body: exchange.body, endedWithHead: end, context: context)
            current = exchange
        case .body(let chunk):
            guard let exchange = current, exchange.task != nil, let body = exchange.body else { return }
            offer(.body(chunk), to: body, context: context)
        case .end(let end):
            guard var exchange = current, exchange.task != nil, let body = exchange.body else { return }
            let trailers: HTTPFields?
            switch end {
            case .success(let value): trailers = value
            case .failure(let error):
                abandon("the server sent request trailers the client cannot read: \(error)")
                return
            }
            exchange.requestEnded = true
            current = exchange
            offer(.end(trailers), to: body, context: context)
            body.finish()  // keeps an offered End for the receiver
        case .cancel:
            guard var exchange = current else {
                // Cancelled before any head: the server retired the idle stream (the pool
                // shrinks), or the public request was gone at once.
                retire()
                return
            }
            switch exchange.phase {
            case .running:
                exchange.phase = .cancelRequested
                current = exchange
                exchange.body?.fail(CancellationError())
                exchange.task?.cancel()
            case .released:
                exchange.phase = .ending
                current = exchange
                retire()
            case .cancelRequested, .ending:
                break
            }
        case .none:
            break
        }
    }

    /// Starts the exchange's task; it tells the handler when it is done (``exchangeDone(_:)``).
    /// - Parameters:
    ///   - body: the channel the request's body parts go through; nil when its end came with its
    ///     head (`endedWithHead`, the end's trailers).
    private func startExchange(
        _ request: ExchangeRequestHead, body: OneSlotChannel<ExchangeRequestPart>?, endedWithHead: HTTPFields??,
        context: ChannelHandlerContext
    ) -> Task<Void, Never> {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let writer = ExchangeStreamWriter<ClientExchangeOutbound, ClientExchangeStreamHandler>(
            channel: context.channel, sink: handler, ended: ended)
        let settings = self.settings
        // On the stream's own event loop while the tunnel is not busy (``ClientExchangePlacement``).
        let task = Task(executorPreference: settings.placement.executorForExchange(on: eventLoop)) {
            let requestBody: PartStream<ExchangeRequestPart> = if let body { PartStream(body) } else { .known([.end(endedWithHead ?? nil)]) }
            let outcome = await ClientExchangeServing.serve(
                request, with: settings.handler, requestBody: requestBody, writer: .direct(writer), coalescing: settings.coalescing)
            // Counted out before the stream may start the next exchange (below).
            settings.placement.exchangeEnded()
            // Request parts that still come are dropped.
            body?.finish()
            // At once when the task runs on the stream's loop (usually: see above), else in a hop.
            if eventLoop.inEventLoop {
                handler.value.exchangeDone(outcome)
            } else {
                eventLoop.execute { handler.value.exchangeDone(outcome) }
            }
        }
        tasks.started(task)
        return task
    }

    /// The exchange's task is done: the stream takes the next request, or ends.
    private func exchangeDone(_ outcome: ClientExchangeServing.Outcome) {
        guard var exchange = current else { return }
        exchange.task = nil
        let clean = if case .clean = outcome { exchange.requestEnded } else { false }
        let released = clean && exchange.phase == .running
        exchange.phase = released ? .released : .ending
        current = exchange
        if released {
            settings.pool.streamReleased()
        } else {
            let failure: String? = if case .unclean(let failure) = outcome { failure } else { nil }
            endOurSide(failure: failure)
        }
        // A body part offered to it is dropped with it; a head held behind it goes on.
        resume()
    }

    /// Offers a request part to the exchange; pauses reading when it has to wait.
    private func offer(_ part: ExchangeRequestPart, to body: OneSlotChannel<ExchangeRequestPart>, context: ChannelHandlerContext) {
        offers += 1
        let number = offers
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        if !body.offer(part, onTaken: { eventLoop.execute { handler.value.bodyPartTaken(number) } }) {
            pause = .bodyPart(number)
        }
    }

    private func bodyPartTaken(_ number: UInt64) {
        guard case .bodyPart(number)? = pause else { return }
        resume()
    }

    private func resume() {
        guard pause != nil, let context else { return }
        pause = nil
        takeMessages(context: context)
        if pause == nil, readPending {
            readPending = false
            context.read()
        }
    }

    /// The server retired the idle stream: the pool learns of it, and this side ends.
    private func retire() {
        settings.open(settings.pool.streamRetired())
        endOurSide(failure: nil)
    }

    /// The server broke the protocol: a running exchange is cancelled, and the stream ends with
    /// a Failure that names the problem.
    private func abandon(_ reason: String) {
        settings.logger.warning("exchange stream abandoned", metadata: ["reason": "\(reason)"])
        if let exchange = current, let task = exchange.task {
            exchange.body?.fail(TunnelExchangeError(.protocolViolation, reason))
            task.cancel()
        }
        endOurSide(failure: reason)
        discarding = true
        deframer = GRPCMessageDeframer()
        held = nil
        pause = nil
    }

    /// Half-closes the stream, after `failure` when given; once. Writers stop.
    private func endOurSide(failure: String?) {
        guard !ourSideEnded, !closed, let context else { return }
        ourSideEnded = true
        ended.markEnded()
        writabilityWaiters.releaseAll(RPCError(code: .unavailable, message: "the exchange stream has ended"))
        var frames = ByteBuffer()
        if let failure {
            GRPCMessageFraming.append(ClientExchangeOutbound.failure(message: failure), to: &frames)
        }
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(frames), endStream: true))), promise: nil)
        context.flush()
    }

    /// The stream closed (both sides ended, a reset, or the connection went): a running
    /// exchange fails and its task is cancelled.
    private func streamClosed() {
        guard !closed else { return }
        closed = true
        ended.markEnded()
        writabilityWaiters.releaseAll(RPCError(code: .unavailable, message: "the exchange stream has closed"))
        if let exchange = current, let task = exchange.task {
            exchange.body?.fail(TunnelExchangeError(.tunnelFailed, "the exchange stream closed"))
            task.cancel()
        }
    }
}
