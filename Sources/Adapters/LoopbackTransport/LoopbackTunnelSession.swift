import AsyncAlgorithms
import HopGateDomain
import HopGatePorts
import Synchronization

/// The server's handle on one loopback tunnel. Each exchange gets two channels of its own (the
/// request body and the response), which suspend the sender until the receiver takes a part, so
/// back-pressure is per exchange as with HTTP/2 streams.
final class LoopbackTunnelSession: TunnelConnection {
    /// One exchange as the client side receives it.
    struct Job: Sendable {
        let head: ExchangeRequestHead
        let requestBody: OneSlotChannel<ExchangeRequestPart>
        let response: AsyncThrowingChannel<ExchangeResponsePart, any Error>
        /// Finishes when the server side is done with the exchange (the client then stops).
        let done: AsyncStream<Void>
        /// Set when the server side is done: the client's writes then fail, as a real
        /// transport's writes to a closed stream do (a finished channel would accept them).
        let ended: ExchangeEnded
    }

    /// Whether the server side is done with an exchange.
    final class ExchangeEnded: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// What the client side of the tunnel is told, in order.
    enum Event: Sendable {
        case job(Job)
        /// Take no new work; finish what is in flight.
        case drain
        /// The tunnel is over, for this reason; stop everything.
        case close(TunnelCloseReason)
    }

    /// What the session lock guards.
    private struct State {
        /// Drives drain, liveness and close (``TunnelLifecycle``).
        var lifecycle: TunnelLifecycle<ContinuousClock.Instant>
        var active: [Int: AsyncThrowingChannel<ExchangeResponsePart, any Error>] = [:]
        var next = 0
    }

    let id: TunnelID
    let events: AsyncStream<Event>.Continuation
    private let state: Mutex<State>

    init(welcome: TunnelWelcome, events: AsyncStream<Event>.Continuation) {
        self.id = welcome.tunnelID
        self.events = events
        self.state = Mutex(State(lifecycle: welcome.acceptedLifecycle()))
    }

    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let requestBody = OneSlotChannel<ExchangeRequestPart>()
        let response = AsyncThrowingChannel<ExchangeResponsePart, any Error>()
        let (done, finishDone) = AsyncStream.makeStream(of: Void.self)
        let ended = ExchangeEnded()
        let key = try state.withLock { state throws(TunnelExchangeError) -> Int in
            guard state.lifecycle.handle(.exchangeStarted) == .startExchange else {
                throw TunnelExchangeError(.tunnelUnavailable, "the tunnel is \(state.lifecycle.isClosed ? "closed" : "draining")")
            }
            state.next += 1
            state.active[state.next] = response
            return state.next
        }
        // Interrupted, the response fails: the router reading it stops, and leaving `body` ends
        // the exchange on the client side too.
        if let error = interruption?.onInterrupt({ response.fail($0) }) { response.fail(error) }
        defer {
            interruption?.onInterrupt(nil)
            ended.set()
            finishDone.finish()
            response.finish()  // releases a handler blocked sending to a reader that is gone
            carryOut(state.withLock { state in
                state.active.removeValue(forKey: key)
                return state.lifecycle.handle(.exchangeFinished)
            })
        }
        events.yield(.job(Job(head: head, requestBody: requestBody, response: response, done: done, ended: ended)))
        return try await body(
            PartWriter { part in
                await requestBody.send(part)
                if case .end = part { requestBody.finish() }  // nothing follows the end
            },
            PartStream(response))
    }

    func drain() async {
        carryOut(state.withLock { $0.lifecycle.handle(.drain(at: .now)) })
    }

    func close() async {
        markClosed(reason: "the tunnel was closed by the server")
        events.yield(.close(.transportClosed))
    }

    /// The client was heard from (its heartbeat).
    func heard() {
        _ = state.withLock { $0.lifecycle.handle(.heard(at: .now)) }
    }

    /// Checks the session's deadlines; returns why it has ended, if it has (a silent client, an
    /// overdue drain, or a close decided earlier).
    func tick() -> TunnelCloseReason? {
        state.withLock { state in
            _ = state.lifecycle.handle(.tick(at: .now))
            return state.lifecycle.closeReason
        }
    }

    /// Does what the lifecycle decided: the client side learns of a drain and of the close.
    private func carryOut(_ action: TunnelLifecycle<ContinuousClock.Instant>.Action) {
        switch action {
        case .sendDrain:
            events.yield(.drain)
        case .sendDrainAndClose(let reason):
            events.yield(.drain)
            events.yield(.close(reason))
        case .close(let reason):
            events.yield(.close(reason))
        case .none, .startExchange, .refuseExchange, .invalid:
            break
        }
    }

    /// Fails the exchanges in flight; called when the tunnel ends for any reason.
    func markClosed(reason: String) {
        let active = state.withLock { state -> [AsyncThrowingChannel<ExchangeResponsePart, any Error>] in
            _ = state.lifecycle.handle(.transportClosed)
            defer { state.active = [:] }
            return Array(state.active.values)
        }
        for channel in active { channel.fail(TunnelExchangeError(.tunnelFailed, reason)) }
    }
}
