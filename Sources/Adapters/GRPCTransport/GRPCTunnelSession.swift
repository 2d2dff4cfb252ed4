import AsyncAlgorithms
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
    /// Control messages to send (heartbeats, drain), written by the control handler's one writer task.
    let control: AsyncStream<Hopgate_Tunnel_V1_ControlFromServer>.Continuation

    enum Phase { case active, draining, closed }

    /// An Exchange stream the client opened that waits for a request. A reusable stream parks
    /// the same slot again after each clean exchange.
    final class Slot: Sendable {
        let writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>
        /// The state of a stream that carries one exchange after another; nil for version 1.
        let reusable: ReusableExchangeStream?
        /// Resumed exactly once per park, by whoever removes the slot from `idle` (under the
        /// session lock).
        let resume: Mutex<CheckedContinuation<Assignment, any Error>?> = Mutex(nil)
        init(writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>, reusable: ReusableExchangeStream? = nil) {
            self.writer = writer
            self.reusable = reusable
        }
        func finish(_ result: Result<Assignment, any Error>) {
            resume.withLock { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
    }

    /// What an Exchange handler gets when a request is handed to its stream.
    struct Assignment: Sendable {
        let inbound: AsyncThrowingChannel<ExchangeResponsePart, any Error>
        /// The public side's outcome (version 1; a reusable stream learns it from its events).
        let finished: AsyncStream<Result<Void, any Error>>?
    }

    /// An idle reusable stream the server retires because the tunnel has been quiet.
    struct IdleStreamRetired: Error {}

    private struct State {
        var phase = Phase.active
        var idle: [Slot] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Slot, any Error>)] = []
        var nextWaiter = 0
        var active: [Int: AsyncThrowingChannel<ExchangeResponsePart, any Error>] = [:]
        var nextActive = 0
        /// Whether a request took a stream since the last ``retireIdleStreams(keeping:)``.
        var takenSinceLastCheck = false
        /// Exchange streams the client has attached over the tunnel's life.
        var attached = 0
    }
    private let state = Mutex(State())

    init(id: TunnelID, token: [UInt8], reusesExchangeStreams: Bool = false, control: AsyncStream<Hopgate_Tunnel_V1_ControlFromServer>.Continuation) {
        self.id = id
        self.token = token
        self.reusesExchangeStreams = reusesExchangeStreams
        self.control = control
    }

    var phase: Phase { state.withLock { $0.phase } }

    /// Exchange streams the client has attached over the tunnel's life (one per exchange
    /// without `exchange-reuse`; with it, what the peak concurrency needed).
    var exchangeStreamsAttached: Int { state.withLock { $0.attached } }

    /// Exchange streams parked and waiting for a request.
    var idleStreamCount: Int { state.withLock { $0.idle.count } }

    /// Counts an Exchange stream that presented this tunnel's token.
    func streamAttached() { state.withLock { $0.attached += 1 } }

    // MARK: TunnelConnection

    func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead,
        _ body: (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let slot = try await takeSlot()
        let inbound = AsyncThrowingChannel<ExchangeResponsePart, any Error>()
        let key = state.withLock { state in
            state.nextActive += 1
            state.active[state.nextActive] = inbound
            return state.nextActive
        }
        defer { _ = state.withLock { $0.active.removeValue(forKey: key) } }
        let reusable = slot.reusable
        // The public side's outcome goes to the stream's handler: through the reusable stream's
        // events, or a stream of its own for a version 1 stream.
        let ended: @Sendable (Swift.Result<Void, any Error>) -> Void
        if let reusable {
            guard reusable.begin(inbound) else {
                // The stream's handler sees its client has ended it and returns.
                slot.finish(.failure(reusable.unusable ?? RPCError(code: .cancelled, message: "the exchange stream ended")))
                throw TunnelExchangeError(.tunnelUnavailable, "the client ended the exchange stream before the request was sent")
            }
            slot.finish(.success(Assignment(inbound: inbound, finished: nil)))
            ended = { _ in reusable.publicEnded() }
        } else {
            let (finished, finish) = AsyncStream<Swift.Result<Void, any Error>>.makeStream()
            slot.finish(.success(Assignment(inbound: inbound, finished: finished)))
            ended = { outcome in
                finish.yield(outcome)
                finish.finish()
            }
        }
        do {
            var message = Hopgate_Tunnel_V1_ExchangeFromServer()
            message.head = ProtoConversions.requestHead(head)
            do { try await slot.writer.write(message) } catch {
                throw TunnelExchangeError(.tunnelUnavailable, "the exchange stream closed before the request was sent: \(error)")
            }
            let writer = slot.writer
            let result = try await body(
                PartWriter { part in
                    var message = Hopgate_Tunnel_V1_ExchangeFromServer()
                    switch part {
                    case .body(let buffer): message.body = ProtoConversions.chunk(buffer)
                    case .end(let trailers): message.end = ProtoConversions.end(trailers)
                    }
                    do { try await writer.write(message) } catch {
                        throw TunnelExchangeError(.tunnelFailed, "the tunnel stream closed while sending the request: \(error)")
                    }
                    if case .end = part { reusable?.requestEndWritten() }
                },
                PartStream(inbound))
            ended(.success(()))
            return result
        } catch {
            ended(.failure(error))
            if error is TunnelExchangeError || error is CancellationError { throw error }
            throw TunnelExchangeError(.tunnelFailed, "\(error)")
        }
    }

    func drain() async {
        let (slots, waiters) = state.withLock { state -> ([Slot], [CheckedContinuation<Slot, any Error>]) in
            guard state.phase == .active else { return ([], []) }
            state.phase = .draining
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters.map(\.continuation))
        }
        for slot in slots { slot.finish(.failure(RPCError(code: .unavailable, message: "the tunnel is draining"))) }
        for waiter in waiters { waiter.resume(throwing: TunnelExchangeError(.tunnelUnavailable, "the tunnel is draining")) }
        var message = Hopgate_Tunnel_V1_ControlFromServer()
        message.drain = Hopgate_Tunnel_V1_Drain.with { $0.reason = "server requested drain" }
        control.yield(message)
    }

    func close() async {
        markClosed(reason: "the tunnel was closed by the server")
        control.finish()
    }

    /// Fails everything waiting on this tunnel; called when the tunnel ends for any reason.
    func markClosed(reason: String) {
        let (slots, waiters, active) = state.withLock { state -> ([Slot], [CheckedContinuation<Slot, any Error>], [AsyncThrowingChannel<ExchangeResponsePart, any Error>]) in
            state.phase = .closed
            defer { state.idle = []; state.waiters = []; state.active = [:] }
            return (state.idle, state.waiters.map(\.continuation), Array(state.active.values))
        }
        for slot in slots { slot.finish(.failure(RPCError(code: .unavailable, message: reason))) }
        for waiter in waiters { waiter.resume(throwing: TunnelExchangeError(.tunnelUnavailable, reason)) }
        for channel in active { channel.fail(TunnelExchangeError(.tunnelFailed, reason)) }
    }

    // MARK: Slots

    /// Parks an Exchange stream until a request is handed to it.
    func park(writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>) async throws -> Assignment {
        try await park(Slot(writer: writer))
    }

    /// Parks `slot` until a request is handed to it (again, for a reusable stream).
    func park(_ slot: Slot) async throws -> Assignment {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Assignment, any Error>) in
                slot.resume.withLock { $0 = continuation }
                enum Outcome { case parked, handed(CheckedContinuation<Slot, any Error>), refused(any Error) }
                // A reusable stream's reader marks it unusable before it unparks it, and both take
                // this lock: a stream the client has ended is never left in `idle`.
                let outcome = state.withLock { state -> Outcome in
                    guard state.phase == .active else {
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
        } onCancel: {
            let removed = state.withLock { state -> Bool in
                guard let index = state.idle.firstIndex(where: { $0 === slot }) else { return false }
                state.idle.remove(at: index)
                return true
            }
            if removed { slot.finish(.failure(CancellationError())) }
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

    /// The next idle Exchange stream, waiting for the client to open one if none is idle.
    private func takeSlot() async throws -> Slot {
        let waiterID = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Slot, any Error>) in
                let immediate = state.withLock { state -> Swift.Result<Slot, any Error>? in
                    guard state.phase == .active else {
                        return .failure(TunnelExchangeError(.tunnelUnavailable, "the tunnel is \(state.phase == .draining ? "draining" : "closed")"))
                    }
                    state.takenSinceLastCheck = true
                    if !state.idle.isEmpty { return .success(state.idle.removeFirst()) }
                    state.waiters.append((waiterID, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Slot, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
