import GRPCCore
import HopGateDomain
import HopGatePorts
import NIOCore
import Synchronization
import SwiftProtobuf

/// The server's side of one admitted tunnel: the ``TunnelConnection`` the hub routes requests
/// to. It keeps the client's idle Exchange streams and hands each request to one of them.
final class GRPCTunnelSession: TunnelConnection {
    let id: TunnelID
    let token: [UInt8]
    /// The client's Exchange streams carry one exchange after another (`exchange-reuse`).
    let reusesExchangeStreams: Bool
    /// A bodiless request's head carries its End (`request-end-in-head`).
    let endsRequestsInHead: Bool
    /// Control messages to send (heartbeats, drain) and the close, in order, carried out by the
    /// control handler's one writer task.
    let control: AsyncStream<ControlOutput>.Continuation
    /// The event loop of the tunnel's connection, once a stream served by its channel handler
    /// has told it (``parkServedByHandler(_:on:)``; a connection's streams share its loop).
    private let connectionLoop = Mutex<(any EventLoop)?>(nil)

    /// What the control handler's writer does next.
    enum ControlOutput: Sendable {
        case send(Hopgate_Tunnel_V1_ControlFromServer)
        /// End the tunnel for this reason (after what was queued before it is written).
        case close(TunnelCloseReason)
        /// Tell the acceptor which edge event loop the tunnel's connection runs on.
        case placed(TunnelPlacement)
    }

    /// An Exchange stream the client opened that waits for a request. A reusable stream's slot
    /// goes back to the idle pool after each clean exchange (``follow(_:of:)``).
    final class Slot: Sendable {
        let writer: ExchangeMessageWriter<ServerExchangeOutbound, ExchangeStreamHandler>
        /// The state of a stream that carries one exchange after another; nil for version 1.
        let reusable: ReusableExchangeStream?
        /// A version 1 stream's park (its gRPC handler waiting), resumed at most once, by
        /// whoever takes the slot from `idle` (under the session lock) or when it must stop.
        let resume: Mutex<CheckedContinuation<Assignment, any Error>?> = Mutex(nil)
        /// A reusable stream, served by its channel handler (``ExchangeStreamHandler``), has no
        /// park to resume: it is told once, here, when it must stop.
        private let onStop: Mutex<(@Sendable (any Error) -> Void)?>
        /// A version 1 stream, served by its gRPC handler.
        init(writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>) {
            self.writer = .grpc(RPCWriter(wrapping: ProtobufExchangeWriter(base: writer) { $0.protobuf }))
            self.reusable = nil
            self.onStop = Mutex(nil)
        }
        /// A reusable stream served by its channel handler; `onStop` is called at most once.
        init(writer: ExchangeMessageWriter<ServerExchangeOutbound, ExchangeStreamHandler>, reusable: ReusableExchangeStream, onStop: @escaping @Sendable (any Error) -> Void) {
            self.writer = writer
            self.reusable = reusable
            self.onStop = Mutex(onStop)
        }
        func finish(_ result: Result<Assignment, any Error>) {
            resume.withLock { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
            if case .failure(let error) = result, let stop = onStop.withLock({ stop in defer { stop = nil }; return stop }) {
                stop(error)
            }
        }
    }

    /// What an Exchange handler gets when a request is handed to its stream.
    struct Assignment: Sendable {
        let inbound: ResponsePartBatches
        /// The public side's outcome (version 1; a reusable stream's turn is decided without it).
        let finished: AsyncStream<Result<Void, any Error>>?
    }

    /// An idle reusable stream the server retires because the tunnel has been quiet.
    struct IdleStreamRetired: Error {}

    private struct State {
        /// Drives drain, liveness and close (``TunnelLifecycle``).
        var lifecycle: TunnelLifecycle<ContinuousClock.Instant>
        var idle: [Slot] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Slot, any Error>)] = []
        var nextWaiter = 0
        var active: [Int: ResponsePartBatches] = [:]
        var nextActive = 0
        /// Whether a request took a stream since the last ``retireIdleStreams(keeping:)``.
        var takenSinceLastCheck = false
        /// Exchange streams the client has attached over the tunnel's life.
        var attached = 0
        /// Of those, the streams their channel handler serves (``ExchangeStreamHandler``).
        var servedByHandler = 0
        /// Whether a tick has found the lifecycle closed already (see ``tick()``).
        var closeSeenByTick = false
    }
    private let state: Mutex<State>

    init(
        welcome: TunnelWelcome, token: [UInt8], reusesExchangeStreams: Bool = false, endsRequestsInHead: Bool = false,
        control: AsyncStream<ControlOutput>.Continuation
    ) {
        self.id = welcome.tunnelID
        self.token = token
        self.reusesExchangeStreams = reusesExchangeStreams
        self.endsRequestsInHead = endsRequestsInHead
        self.control = control
        self.state = Mutex(State(lifecycle: welcome.acceptedLifecycle()))
    }

    /// Exchange streams the client has attached over the tunnel's life (one per exchange
    /// without `exchange-reuse`; with it, what the peak concurrency needed).
    var exchangeStreamsAttached: Int { state.withLock { $0.attached } }

    /// Exchange streams served by their channel handler (``ExchangeStreamHandler``) rather than
    /// by grpc-swift's per-stream pipeline, over the tunnel's life.
    var exchangeStreamsServedByHandler: Int { state.withLock { $0.servedByHandler } }

    /// Exchange streams parked and waiting for a request.
    var idleStreamCount: Int { state.withLock { $0.idle.count } }

    /// Counts an Exchange stream that presented this tunnel's token.
    func streamAttached() { state.withLock { $0.attached += 1 } }

    // MARK: TunnelConnection

    var isOnCurrentEventLoop: Bool { connectionLoop.withLock { $0?.inEventLoop ?? false } }

    /// The event loop of the tunnel's connection, once known (see ``connectionLoop``).
    var connectionEventLoop: (any EventLoop)? { connectionLoop.withLock { $0 } }

    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let slot = try await takeSlot(interruption: interruption)
        let inbound = ResponsePartBatches()
        let key = state.withLock { state in
            state.nextActive += 1
            state.active[state.nextActive] = inbound
            return state.nextActive
        }
        // Interrupted, the response fails: the router reading it stops, and leaving `body` ends
        // the exchange as an abandoned one (the client gets Cancel). An interruption that came
        // while the stream was being taken fails it at once.
        if let error = interruption?.onInterrupt({ inbound.fail($0) }) { inbound.fail(error) }
        defer {
            interruption?.onInterrupt(nil)
            exchangeFinished(removing: key)
        }
        let reusable = slot.reusable
        // The public side's outcome goes to the stream: a reusable stream's turn is decided and
        // carried out here or by its reader, whichever side ends second (its handler sleeps);
        // a version 1 stream's handler learns it from a stream of its own.
        let ended: @Sendable (Swift.Result<Void, any Error>) -> Void
        if let reusable {
            guard reusable.begin(inbound) else {
                // The stream's handler sees its client has ended it and returns.
                slot.finish(.failure(reusable.unusable ?? RPCError(code: .cancelled, message: "the exchange stream ended")))
                throw TunnelExchangeError(.tunnelUnavailable, "the client ended the exchange stream before the request was sent")
            }
            ended = { [self] _ in follow(reusable.publicEnded(), of: slot) }
        } else {
            let (finished, finish) = AsyncStream<Swift.Result<Void, any Error>>.makeStream()
            slot.finish(.success(Assignment(inbound: inbound, finished: finished)))
            ended = { outcome in
                finish.yield(outcome)
                finish.finish()
            }
        }
        do {
            // A request known to have no body: its head waits for the End, which the exchange
            // writes at once, and both go out in one write (one event-loop hop and one flush) —
            // in one message, the head carrying the End, with `request-end-in-head`.
            let heldHead = head.bodyless ? HeldRequestHead(head) : nil
            let endsInHead = endsRequestsInHead
            if heldHead == nil {
                do { try await slot.writer.write(.head(head)) } catch {
                    throw TunnelExchangeError(.tunnelUnavailable, "the exchange stream closed before the request was sent: \(error)")
                }
            }
            let writer = slot.writer
            let result = try await body(
                PartWriter { part in
                    let message: ServerExchangeOutbound = switch part {
                    case .body(let buffer): .body(buffer)
                    case .end(let trailers): .end(trailers)
                    }
                    if let held = heldHead?.take() {
                        do {
                            if case .end(let trailers) = part, endsInHead {
                                try await writer.write(.head(held, end: .some(trailers)))
                            } else {
                                try await writer.write(contentsOf: [.head(held), message])
                            }
                        } catch {
                            // Nothing reached the client: the exchange fails as if the head's own
                            // write had (through the response side, which the router reads), so
                            // that it may go to another tunnel.
                            inbound.fail(TunnelExchangeError(.tunnelUnavailable, "the exchange stream closed before the request was sent: \(error)"))
                            return
                        }
                    } else {
                        do { try await writer.write(message) } catch {
                            throw TunnelExchangeError(.tunnelFailed, "the tunnel stream closed while sending the request: \(error)")
                        }
                    }
                    if case .end = part { reusable?.requestEndWritten() }
                },
                PartStream.batched(inbound.next))
            ended(.success(()))
            return result
        } catch {
            ended(.failure(error))
            if error is TunnelExchangeError || error is CancellationError { throw error }
            throw TunnelExchangeError(.tunnelFailed, "\(error)")
        }
    }

    func drain() async {
        let (action, slots, waiters) = state.withLock { state -> (Lifecycle.Action, [Slot], [CheckedContinuation<Slot, any Error>]) in
            let wasActive = state.lifecycle.acceptsExchanges
            let action = state.lifecycle.handle(.drain(at: .now))
            guard wasActive else { return (action, [], []) }
            defer { state.idle = []; state.waiters = [] }
            return (action, state.idle, state.waiters.map(\.continuation))
        }
        // The Drain goes out before the waiters fail: their ends may close the tunnel.
        carryOut(action)
        for slot in slots { slot.finish(.failure(RPCError(code: .unavailable, message: "the tunnel is draining"))) }
        for waiter in waiters { waiter.resume(throwing: TunnelExchangeError(.tunnelUnavailable, "the tunnel is draining")) }
    }

    func close() async {
        markClosed(reason: "the tunnel was closed by the server")
        control.yield(.close(.transportClosed))
        control.finish()
    }

    /// Fails everything waiting on this tunnel; called when the tunnel ends for any reason.
    func markClosed(reason: String) {
        let (slots, waiters, active) = state.withLock { state -> ([Slot], [CheckedContinuation<Slot, any Error>], [ResponsePartBatches]) in
            _ = state.lifecycle.handle(.transportClosed)
            defer { state.idle = []; state.waiters = []; state.active = [:] }
            return (state.idle, state.waiters.map(\.continuation), Array(state.active.values))
        }
        for slot in slots { slot.finish(.failure(RPCError(code: .unavailable, message: reason))) }
        for waiter in waiters { waiter.resume(throwing: TunnelExchangeError(.tunnelUnavailable, reason)) }
        for channel in active { channel.fail(TunnelExchangeError(.tunnelFailed, reason)) }
    }

    // MARK: Lifecycle

    /// The session's state machine, on the real clock.
    typealias Lifecycle = TunnelLifecycle<ContinuousClock.Instant>

    /// The client was heard from (any control message).
    func heard() {
        _ = state.withLock { $0.lifecycle.handle(.heard(at: .now)) }
    }

    /// Checks the session's deadlines; returns why it has ended: a silent client or an overdue
    /// drain, or a close decided before the previous tick that the writer has still not carried
    /// out (it is stuck on a client that does not read; until then it is given time to write the
    /// Drain that goes before the close).
    func tick() -> TunnelCloseReason? {
        state.withLock { state in
            let wasClosed = state.lifecycle.isClosed
            if case .close(let reason) = state.lifecycle.handle(.tick(at: .now)) { return reason }
            guard wasClosed else { return nil }
            defer { state.closeSeenByTick = true }
            return state.closeSeenByTick ? state.lifecycle.closeReason : nil
        }
    }

    /// The client ended its side of the control stream. A draining tunnel goes on until its
    /// exchanges end (nil); any other is over.
    func clientEndedControl() -> TunnelCloseReason? {
        state.withLock { state in
            if case .draining = state.lifecycle.state { return nil }
            _ = state.lifecycle.handle(.transportClosed)
            return state.lifecycle.closeReason
        }
    }

    /// Counts an exchange out (and forgets its response channel).
    private func exchangeFinished(removing key: Int?) {
        carryOut(state.withLock { state in
            if let key { state.active.removeValue(forKey: key) }
            return state.lifecycle.handle(.exchangeFinished)
        })
    }

    /// Does what the lifecycle decided, through the control stream's writer so that a Drain goes
    /// out before the close.
    private func carryOut(_ action: Lifecycle.Action) {
        switch action {
        case .sendDrain:
            control.yield(.send(Self.drainMessage))
        case .sendDrainAndClose(let reason):
            control.yield(.send(Self.drainMessage))
            control.yield(.close(reason))
        case .close(let reason):
            control.yield(.close(reason))
        case .none, .startExchange, .refuseExchange, .invalid:
            break
        }
    }

    private static var drainMessage: Hopgate_Tunnel_V1_ControlFromServer {
        var message = Hopgate_Tunnel_V1_ControlFromServer()
        message.drain = Hopgate_Tunnel_V1_Drain.with { $0.reason = "server requested drain" }
        return message
    }

    // MARK: Slots

    /// Parks an Exchange stream until a request is handed to it.
    func park(writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>) async throws -> Assignment {
        try await park(Slot(writer: writer))
    }

    /// Parks a version 1 stream's `slot` until a request is handed to it: the returned
    /// assignment is the request's. Throws when the stream must stop (the tunnel's end, the
    /// client's, or the handler's cancellation).
    func park(_ slot: Slot) async throws -> Assignment {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Assignment, any Error>) in
                slot.resume.withLock { $0 = continuation }
                offer(slot)
            }
        } onCancel: {
            state.withLock { state in
                if let index = state.idle.firstIndex(where: { $0 === slot }) { state.idle.remove(at: index) }
            }
            slot.finish(.failure(CancellationError()))
        }
    }

    /// Parks a reusable stream, served by its channel handler, for its whole life: it joins the
    /// idle pool (or goes to a request waiting for a stream) with no task waiting on it, comes
    /// back after each clean exchange (``follow(_:of:)``), and its slot's `onStop` is called
    /// when it must stop — ``ReusableExchangeStream/Retirement``, ``IdleStreamRetired``, the
    /// tunnel's end or the client's. `loop` is the stream's, hence its connection's.
    func parkServedByHandler(_ slot: Slot, on loop: any EventLoop) {
        let first = connectionLoop.withLock { known in
            guard known == nil else { return false }
            known = loop
            return true
        }
        if first, let placement = EdgeEventLoops.placement(of: loop) { control.yield(.placed(placement)) }
        state.withLock { $0.servedByHandler += 1 }
        offer(slot)
    }

    /// Carries out a reusable stream's turn after one side of its exchange ended: back in the
    /// pool after a clean exchange (or straight to a request waiting for a stream), else its
    /// handler is woken to retire it.
    func follow(_ turn: ReusableExchangeStream.Turn, of slot: Slot) {
        switch turn {
        case .none: break
        case .reuse: offer(slot)
        case .retire: slot.finish(.failure(ReusableExchangeStream.Retirement(reason: "the public request ended")))
        }
    }

    /// Hands `slot` to the first request waiting for a stream, or parks it in the idle pool; a
    /// tunnel that takes no more exchanges, or a stream that may not be reused, ends its
    /// handler's park instead. A reusable stream's handler marks it unusable before it unparks
    /// it, and both take the session's lock: a stream the client has ended is never left idle.
    private func offer(_ slot: Slot) {
        enum Outcome { case parked, handed(CheckedContinuation<Slot, any Error>), refused(any Error) }
        let outcome = state.withLock { state -> Outcome in
            guard state.lifecycle.acceptsExchanges else {
                return .refused(RPCError(code: .unavailable, message: "the tunnel is not accepting exchanges"))
            }
            if let unusable = slot.reusable?.unusable { return .refused(unusable) }
            if !state.waiters.isEmpty { return .handed(state.waiters.removeFirst().continuation) }
            state.idle.append(slot)
            return .parked
        }
        switch outcome {
        case .parked: break
        case .handed(let waiter): waiter.resume(returning: slot)
        case .refused(let error): slot.finish(.failure(error))
        }
    }

    /// Takes a parked stream out of the idle pool (its client ended it); its park fails with
    /// the stream's reason. Nothing happens to a stream that is not parked.
    func unpark(_ slot: Slot) {
        let removed = state.withLock { state -> Bool in
            guard let index = state.idle.firstIndex(where: { $0 === slot }) else { return false }
            state.idle.remove(at: index)
            return true
        }
        if removed { slot.finish(.failure(slot.reusable?.unusable ?? RPCError(code: .cancelled, message: "the exchange stream ended"))) }
    }

    /// Shrinks a quiet tunnel's pool: when no request took a stream since the last call, retires
    /// the reusable idle streams beyond `keeping` (the client half-closes them and opens no
    /// replacement). Returns how many were retired.
    @discardableResult
    func retireIdleStreams(keeping: Int) -> Int {
        let retired = state.withLock { state -> [Slot] in
            defer { state.takenSinceLastCheck = false }
            guard !state.takenSinceLastCheck, state.idle.count > keeping else { return [] }
            var retired: [Slot] = []
            var kept: [Slot] = []
            var surplus = state.idle.count - keeping
            for slot in state.idle {
                if surplus > 0, slot.reusable != nil {
                    retired.append(slot)
                    surplus -= 1
                } else {
                    kept.append(slot)
                }
            }
            state.idle = kept
            return retired
        }
        for slot in retired { slot.finish(.failure(IdleStreamRetired())) }
        return retired.count
    }

    /// Counts an exchange in (the lifecycle refuses it on a tunnel that is not active) and
    /// returns the next idle Exchange stream, waiting for the client to open one if none is idle.
    /// An exchange counted in and then failed here is counted out again.
    private nonisolated(nonsending) func takeSlot(interruption: ExchangeInterruption?) async throws -> Slot {
        /// How the exchange begins: refused, with an idle stream, or waiting (with its waiter id).
        enum Start { case refused(any Error), taken(Slot), waits(Int) }
        let start = state.withLock { state -> Start in
            guard case .startExchange = state.lifecycle.handle(.exchangeStarted) else { return .refused(Self.unavailable(state)) }
            state.takenSinceLastCheck = true
            if !state.idle.isEmpty { return .taken(state.idle.removeFirst()) }
            state.nextWaiter += 1
            return .waits(state.nextWaiter)
        }
        let waiterID: Int
        switch start {
        case .refused(let error): throw error
        case .taken(let slot): return slot
        case .waits(let id): waiterID = id
        }
        // The wait ends with a stream, or with the task's cancellation or the interruption.
        let stopWaiting: @Sendable (any Error) -> Void = { [self] error in
            let waiter = state.withLock { state -> CheckedContinuation<Slot, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: error)
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Slot, any Error>) in
                    let immediate = state.withLock { state -> Swift.Result<Slot, any Error>? in
                        guard state.lifecycle.acceptsExchanges else { return .failure(Self.unavailable(state)) }
                        if !state.idle.isEmpty { return .success(state.idle.removeFirst()) }
                        state.waiters.append((waiterID, continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                    if let error = interruption?.onInterrupt(stopWaiting) { stopWaiting(error) }
                }
            } onCancel: {
                stopWaiting(CancellationError())
            }
        } catch {
            exchangeFinished(removing: nil)
            throw error
        }
    }

    private static func unavailable(_ state: State) -> TunnelExchangeError {
        TunnelExchangeError(.tunnelUnavailable, "the tunnel is \(state.lifecycle.isClosed ? "closed" : "draining")")
    }
}
