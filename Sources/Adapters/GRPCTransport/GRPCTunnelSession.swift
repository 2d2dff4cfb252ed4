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
    /// Control messages to send (heartbeats, drain), written by the control handler's one writer task.
    let control: AsyncStream<Hopgate_Tunnel_V1_ControlFromServer>.Continuation

    enum Phase { case active, draining, closed }

    /// An Exchange stream the client opened that waits for a request.
    final class Slot: Sendable {
        let writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>
        /// Resumed exactly once, by whoever removes the slot from `idle` (under the session lock).
        let resume: Mutex<CheckedContinuation<Assignment, any Error>?> = Mutex(nil)
        init(writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>) { self.writer = writer }
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
        let finished: AsyncStream<Result<Void, any Error>>
    }

    private struct State {
        var phase = Phase.active
        var idle: [Slot] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Slot, any Error>)] = []
        var nextWaiter = 0
        var active: [Int: AsyncThrowingChannel<ExchangeResponsePart, any Error>] = [:]
        var nextActive = 0
    }
    private let state = Mutex(State())

    init(id: TunnelID, token: [UInt8], control: AsyncStream<Hopgate_Tunnel_V1_ControlFromServer>.Continuation) {
        self.id = id
        self.token = token
        self.control = control
    }

    var phase: Phase { state.withLock { $0.phase } }

    // MARK: TunnelConnection

    func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead,
        _ body: (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let slot = try await takeSlot()
        let inbound = AsyncThrowingChannel<ExchangeResponsePart, any Error>()
        let (finished, finish) = AsyncStream<Swift.Result<Void, any Error>>.makeStream()
        let key = state.withLock { state in
            state.nextActive += 1
            state.active[state.nextActive] = inbound
            return state.nextActive
        }
        defer { _ = state.withLock { $0.active.removeValue(forKey: key) } }
        slot.finish(.success(Assignment(inbound: inbound, finished: finished)))
        do {
            var message = Hopgate_Tunnel_V1_ExchangeFromServer()
            message.head = ProtoConversions.requestHead(head)
            try await slot.writer.write(message)
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
                },
                PartStream(inbound))
            finish.yield(.success(()))
            finish.finish()
            return result
        } catch {
            finish.yield(.failure(error))
            finish.finish()
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
        let slot = Slot(writer: writer)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Assignment, any Error>) in
                slot.resume.withLock { $0 = continuation }
                let outcome = state.withLock { state -> CheckedContinuation<Slot, any Error>? in
                    guard state.phase == .active else { return nil }
                    if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
                    state.idle.append(slot)
                    return nil
                }
                if let waiter = outcome {
                    waiter.resume(returning: slot)
                } else if phase != .active {
                    slot.finish(.failure(RPCError(code: .unavailable, message: "the tunnel is not accepting exchanges")))
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
