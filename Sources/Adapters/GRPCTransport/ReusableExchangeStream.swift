import AsyncAlgorithms
import GRPCCore
import HopGatePorts
import Synchronization

/// The server's side of one Exchange stream of a tunnel that negotiated `exchange-reuse`: the
/// stream carries one exchange after another, and goes back to its tunnel's idle pool after
/// each exchange that ended cleanly (see `tunnel.proto`, "Capabilities").
///
/// Two tasks serve a stream for its whole life, however many exchanges it carries: the
/// ``read(_:)`` task feeds the client's messages to the running exchange, and the handler task
/// (``GRPCTunnelService``) parks the stream, follows the exchange's ``Event``s and decides
/// whether the stream is reused or retired. A plain version 1 stream costs a new HTTP/2
/// stream, a gRPC handler and its tasks for every exchange instead.
final class ReusableExchangeStream: Sendable {
    /// What the handler task learns about the running exchange, and about the stream.
    enum Event: Sendable {
        /// The client's End came and was handed to the exchange.
        case responseEnded
        /// The client sent Failure or an unexpected message: the exchange failed.
        case responseFailed
        /// The client ended its side of the stream (or the stream broke).
        case clientEnded
        /// The public side is done with the exchange (whether or not it read the whole response:
        /// the stream's fitness depends only on the two Ends).
        case publicEnded
        /// A retired stream's client did not end it in time.
        case graceOver
    }

    private struct State {
        /// Where the running exchange's response parts go; nil between exchanges.
        var inbound: ResponsePartBatches?
        /// The running exchange's request End was written.
        var requestEnded = false
        /// The running exchange's response End came from the client (it may still be on its way
        /// to the exchange).
        var responseEndArrived = false
        /// The stream is being retired: whatever the client still sends is dropped.
        var retiring = false
        /// The client ended its side, or sent something on the idle stream: never park it again.
        var unusable: RPCError?
        /// The client ended its side of the stream.
        var clientEnded = false
    }

    let events: AsyncStream<Event>
    private let sink: AsyncStream<Event>.Continuation
    private let state = Mutex(State())

    init() {
        (events, sink) = AsyncStream.makeStream(of: Event.self)
    }

    // MARK: The exchange's side (``GRPCTunnelSession/exchange(_:_:)``)

    /// A new exchange starts on the stream; called before its request head is written, so that
    /// the first response part finds it. Returns false, and starts nothing, when the client
    /// ended the stream just as it was handed the request: the exchange then fails at once,
    /// before anything was sent (so the router may send it elsewhere).
    func begin(_ inbound: ResponsePartBatches) -> Bool {
        state.withLock { state in
            guard !state.clientEnded else { return false }
            state.inbound = inbound
            state.requestEnded = false
            state.responseEndArrived = false
            return true
        }
    }

    /// The request's End was written: on the server's side the exchange can end cleanly.
    func requestEndWritten() { state.withLock { $0.requestEnded = true } }

    /// The public side is done with the exchange.
    func publicEnded() { sink.yield(.publicEnded) }

    // MARK: The handler's side

    /// Why the stream may not be parked again, or nil while it may.
    var unusable: RPCError? { state.withLock { $0.unusable } }

    /// Whether the exchange that just ended leaves the stream fit for the next one: the request's
    /// End went out and the client is still there.
    var readyForNextExchange: Bool { state.withLock { $0.requestEnded && $0.unusable == nil && !$0.retiring } }

    /// Starts retiring the stream: the running exchange (if any) stops receiving, and whatever
    /// the client still sends is read and dropped. Returns whether the client has already ended
    /// its side.
    func startRetiring() -> Bool {
        let (inbound, ended) = state.withLock { state -> (ResponsePartBatches?, Bool) in
            state.retiring = true
            defer { state.inbound = nil }
            return (state.inbound, state.clientEnded)
        }
        inbound?.finish()
        return ended
    }

    /// Whether the client's End of the running exchange has come. If it has, the exchange stops
    /// receiving (the End is not waited for by a public side that is gone), and the handler
    /// learns of it as ``Event/responseEnded`` at once.
    func responseEndArrived() -> Bool {
        let (arrived, inbound) = state.withLock { ($0.responseEndArrived, $0.inbound) }
        if arrived { inbound?.finish() }
        return arrived
    }

    /// Tells the handler that the grace after a retirement's Cancel is over.
    func graceIsOver() { sink.yield(.graceOver) }

    // MARK: The reader

    /// Reads the client's messages for the stream's whole life and hands them to the running
    /// exchange. Returns when the client ends its side or the stream fails; `onUnusable` is
    /// then called (also when the client sent something while no exchange was running), so
    /// that a parked stream leaves the idle pool.
    func read<Messages: AsyncIteratorProtocol>(
        _ messages: OneTaskIterator<Messages>, onUnusable: @Sendable () -> Void
    ) async where Messages.Element == Hopgate_Tunnel_V1_ExchangeFromClient {
        do {
            while let message = try await messages.next() {
                let (inbound, retiring) = state.withLock { ($0.inbound, $0.retiring) }
                if retiring { continue }
                guard let inbound else {
                    markUnusable(RPCError(code: .invalidArgument, message: "the client sent a message on an idle exchange stream"))
                    onUnusable()
                    continue
                }
                let decoded: ExchangeMessageDecoding.Message
                do { decoded = try ExchangeMessageDecoding.message(message) } catch {
                    endExchange(inbound, failing: error)
                    continue
                }
                switch decoded {
                case .part(let part):
                    await deliver([part], to: inbound)
                case .parts(let parts):
                    await deliver(parts, to: inbound)
                case .failure(let reason):
                    endExchange(inbound, failing: TunnelExchangeError(.upstreamFailed, reason))
                case .unexpected:
                    endExchange(inbound, failing: TunnelExchangeError(.protocolViolation, "unexpected message in an exchange"))
                }
            }
            clientEnded(TunnelExchangeError(.tunnelFailed, "the client ended the exchange without an end"))
        } catch {
            clientEnded(TunnelExchangeError(.tunnelFailed, "the exchange stream failed: \(error)"))
        }
        onUnusable()
    }

    /// Hands the response parts of one message to the running exchange; after the End (always
    /// a message's last part), the exchange is over for this side.
    private func deliver(_ parts: [ExchangeResponsePart], to inbound: ResponsePartBatches) async {
        guard case .end? = parts.last else {
            await inbound.send(parts)
            return
        }
        state.withLock { $0.responseEndArrived = true }
        await inbound.send(parts)
        inbound.finish()
        state.withLock { if $0.inbound === inbound { $0.inbound = nil } }
        sink.yield(.responseEnded)
    }

    private func endExchange(_ inbound: ResponsePartBatches, failing error: TunnelExchangeError) {
        inbound.fail(error)
        state.withLock { if $0.inbound === inbound { $0.inbound = nil } }
        sink.yield(.responseFailed)
    }

    private func clientEnded(_ error: TunnelExchangeError) {
        let inbound = state.withLock { state -> ResponsePartBatches? in
            state.clientEnded = true
            if state.unusable == nil { state.unusable = RPCError(code: .cancelled, message: "the client ended the exchange stream") }
            defer { state.inbound = nil }
            return state.inbound
        }
        inbound?.fail(error)
        sink.yield(.clientEnded)
    }

    private func markUnusable(_ error: RPCError) {
        state.withLock { state in
            state.retiring = true
            if state.unusable == nil { state.unusable = error }
        }
    }

    /// Whether the client has ended its side of the stream.
    var clientHasEnded: Bool { state.withLock { $0.clientEnded } }
}
