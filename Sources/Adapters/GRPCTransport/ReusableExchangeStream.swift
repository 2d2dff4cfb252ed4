import GRPCCore
import HopGatePorts
import Synchronization

/// The server's side of one Exchange stream of a tunnel that negotiated `exchange-reuse`: the
/// stream carries one exchange after another, and goes back to its tunnel's idle pool after
/// each exchange that ended cleanly (see `tunnel.proto`, "Capabilities").
///
/// An exchange is over for the stream when both of its sides are: the public side is done with
/// it (``publicEnded()``, from the exchange's task) and the client's side ended (its End, a
/// Failure, or the client's end of the stream). Whichever comes second decides the stream's
/// ``Turn``, and its caller carries it out at once: a clean exchange puts the stream back in the
/// pool with no other task involved. A plain version 1 stream costs a new HTTP/2 stream, a gRPC
/// handler and its tasks for every exchange instead.
///
/// The stream's channel handler (``ExchangeStreamHandler``) drives it on the stream's event
/// loop: it hands over each of the client's messages (``step(_:)``), carries out the turns, and
/// retires the stream when the session tells it to. No task waits on a reusable stream.
final class ReusableExchangeStream: Sendable {
    /// What the end of one side of an exchange means for the stream.
    enum Turn: Sendable {
        /// The exchange is not over for the stream yet (or none is running).
        case none
        /// Both sides ended cleanly: the stream takes the next exchange.
        case reuse
        /// The exchange ended any other way: the stream is retired in order (Cancel, the client
        /// half-closes, the status goes out).
        case retire
    }

    /// Stops a parked stream with the reason to retire it (see ``Turn/retire``).
    struct Retirement: Error {
        let reason: String
    }

    private struct State {
        /// An exchange is running on the stream (its turn is not decided yet).
        var running = false
        /// Where the running exchange's response parts go; nil once the client's side ended.
        var inbound: ResponsePartBatches?
        /// The running exchange's request End was written.
        var requestEnded = false
        /// The running exchange's response End came from the client (it may still be on its way
        /// to the exchange).
        var responseEndArrived = false
        /// How the client's side of the running exchange ended: true after its End was handed
        /// over, false after a Failure, an unexpected message or the end of the stream; nil while
        /// it runs.
        var responseOutcome: Bool?
        /// The public side is done with the running exchange.
        var publicEnded = false
        /// The stream is being retired: whatever the client still sends is dropped.
        var retiring = false
        /// The client ended its side, or sent something on the idle stream: never park it again.
        var unusable: RPCError?
        /// The client ended its side of the stream.
        var clientEnded = false

        /// The stream's turn once both sides of the running exchange are known. Whether or not
        /// the public client stayed for the answer does not matter: both Ends crossed, so the
        /// stream is in step.
        mutating func turnIfDecided() -> Turn {
            guard running, publicEnded, let responseOutcome else { return .none }
            running = false
            if responseOutcome, requestEnded, unusable == nil, !retiring { return .reuse }
            retiring = true
            return .retire
        }
    }

    private let state = Mutex(State())

    init() {}

    // MARK: The exchange's side (``GRPCTunnelSession/exchange(_:_:)``)

    /// A new exchange starts on the stream; called before its request head is written, so that
    /// the first response part finds it. Returns false, and starts nothing, when the client
    /// ended the stream just as it was handed the request: the exchange then fails at once,
    /// before anything was sent (so the router may send it elsewhere).
    func begin(_ inbound: ResponsePartBatches) -> Bool {
        state.withLock { state in
            guard !state.clientEnded else { return false }
            state.running = true
            state.inbound = inbound
            state.requestEnded = false
            state.responseEndArrived = false
            state.responseOutcome = nil
            state.publicEnded = false
            return true
        }
    }

    /// The request's End was written: on the server's side the exchange can end cleanly.
    func requestEndWritten() { state.withLock { $0.requestEnded = true } }

    /// The public side is done with the exchange; returns the stream's turn. When the client's
    /// End has not come, nobody reads the rest of the response and waiting for its End could
    /// wait for ever: the stream is retired. When it came and is on its way, the hand-over is
    /// let go (nobody reads it) and the reader decides.
    func publicEnded() -> Turn {
        let (turn, abandoned) = state.withLock { state -> (Turn, ResponsePartBatches?) in
            guard state.running else { return (.none, nil) }
            state.publicEnded = true
            guard state.responseOutcome == nil else { return (state.turnIfDecided(), nil) }
            if state.responseEndArrived { return (.none, state.inbound) }
            // The client's side is given up as unfinished, which decides the turn: retire.
            state.responseOutcome = false
            defer { state.inbound = nil }
            return (state.turnIfDecided(), state.inbound)
        }
        abandoned?.finish()
        return turn
    }

    // MARK: The handler's side

    /// Why the stream may not be parked again, or nil while it may.
    var unusable: RPCError? { state.withLock { $0.unusable } }

    /// Whether the client has ended its side of the stream.
    var clientHasEnded: Bool { state.withLock { $0.clientEnded } }

    /// Starts retiring the stream: the running exchange (if any) stops receiving, and whatever
    /// the client still sends is read and dropped. Returns whether the client has already ended
    /// its side.
    func startRetiring() -> Bool {
        let (inbound, ended) = state.withLock { state -> (ResponsePartBatches?, Bool) in
            state.retiring = true
            state.running = false
            defer { state.inbound = nil }
            return (state.inbound, state.clientEnded)
        }
        inbound?.finish()
        return ended
    }

    // MARK: The client's side

    /// What the stream does with one message from the client (``step(_:)``).
    enum Step {
        /// Carry out this turn (often ``Turn/none``).
        case turn(Turn)
        /// The client sent something while no exchange was running: the stream may not be
        /// parked again and must leave the idle pool.
        case unusable
        /// Hand these response parts (not the last) to the running exchange, with back-pressure:
        /// read nothing more from the client until the exchange has taken them.
        case deliver([ExchangeResponsePart], to: ResponsePartBatches)
    }

    /// Takes one message from the client (the stream's channel handler, ``ExchangeStreamHandler``,
    /// calls it for each).
    func step(_ message: Result<ExchangeMessageDecoding.Message, TunnelExchangeError>) -> Step {
        let (inbound, retiring) = state.withLock { ($0.inbound, $0.retiring) }
        if retiring { return .turn(.none) }
        guard let inbound else {
            markUnusable(RPCError(code: .invalidArgument, message: "the client sent a message on an idle exchange stream"))
            return .unusable
        }
        let decoded: ExchangeMessageDecoding.Message
        switch message {
        case .success(let message): decoded = message
        case .failure(let error): return .turn(endExchange(inbound, failing: error))
        }
        switch decoded {
        case .part(let part):
            return deliver([part], to: inbound)
        case .parts(let parts):
            return deliver(parts, to: inbound)
        case .failure(let reason):
            return .turn(endExchange(inbound, failing: TunnelExchangeError(.upstreamFailed, reason)))
        case .unexpected:
            return .turn(endExchange(inbound, failing: TunnelExchangeError(.protocolViolation, "unexpected message in an exchange")))
        }
    }

    /// The response parts of one message for the running exchange: handed over with
    /// back-pressure by the caller, or — the End, always a message's last part — here, without
    /// waiting, after which the client's side of the exchange is over.
    private func deliver(_ parts: [ExchangeResponsePart], to inbound: ResponsePartBatches) -> Step {
        guard case .end? = parts.last else { return .deliver(parts, to: inbound) }
        state.withLock { $0.responseEndArrived = true }
        inbound.sendLast(parts)
        return .turn(state.withLock { state in
            guard state.inbound === inbound else { return .none }  // retired meanwhile
            state.inbound = nil
            state.responseOutcome = true
            return state.turnIfDecided()
        })
    }

    private func endExchange(_ inbound: ResponsePartBatches, failing error: TunnelExchangeError) -> Turn {
        inbound.fail(error)
        return state.withLock { state in
            guard state.inbound === inbound else { return .none }
            state.inbound = nil
            state.responseOutcome = false
            return state.turnIfDecided()
        }
    }

    /// The client ended its side of the stream, or the stream broke: the running exchange (if
    /// any) fails with `error`, and the stream is never parked again.
    func clientEnded(_ error: TunnelExchangeError) -> Turn {
        let (inbound, turn) = state.withLock { state -> (ResponsePartBatches?, Turn) in
            state.clientEnded = true
            if state.unusable == nil { state.unusable = RPCError(code: .cancelled, message: "the client ended the exchange stream") }
            if state.running, state.responseOutcome == nil { state.responseOutcome = false }
            defer { state.inbound = nil }
            return (state.inbound, state.turnIfDecided())
        }
        inbound?.fail(error)
        return turn
    }

    private func markUnusable(_ error: RPCError) {
        state.withLock { state in
            state.retiring = true
            if state.unusable == nil { state.unusable = error }
        }
    }
}
