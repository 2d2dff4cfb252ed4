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
        let requestBody: AsyncThrowingChannel<ExchangeRequestPart, any Error>
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

    enum Event: Sendable { case job(Job), drain, close }
    enum Phase { case active, draining, closed }

    let id: TunnelID
    let events: AsyncStream<Event>.Continuation
    private let state = Mutex((phase: Phase.active, active: [Int: AsyncThrowingChannel<ExchangeResponsePart, any Error>](), next: 0))

    init(id: TunnelID, events: AsyncStream<Event>.Continuation) {
        self.id = id
        self.events = events
    }

    func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead,
        _ body: (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let requestBody = AsyncThrowingChannel<ExchangeRequestPart, any Error>()
        let response = AsyncThrowingChannel<ExchangeResponsePart, any Error>()
        let (done, finishDone) = AsyncStream.makeStream(of: Void.self)
        let ended = ExchangeEnded()
        let key = try state.withLock { state throws(TunnelExchangeError) -> Int in
            guard state.phase == .active else {
                throw TunnelExchangeError(.tunnelUnavailable, "the tunnel is \(state.phase == .draining ? "draining" : "closed")")
            }
            state.next += 1
            state.active[state.next] = response
            return state.next
        }
        defer {
            ended.set()
            finishDone.finish()
            response.finish()  // releases a handler blocked sending to a reader that is gone
            _ = state.withLock { $0.active.removeValue(forKey: key) }
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
        let changed = state.withLock { state -> Bool in
            guard state.phase == .active else { return false }
            state.phase = .draining
            return true
        }
        if changed { events.yield(.drain) }
    }

    func close() async {
        markClosed(reason: "the tunnel was closed by the server")
        events.yield(.close)
    }

    var phase: Phase { state.withLock { $0.phase } }

    /// Fails the exchanges in flight; called when the tunnel ends for any reason.
    func markClosed(reason: String) {
        let active = state.withLock { state -> [AsyncThrowingChannel<ExchangeResponsePart, any Error>] in
            state.phase = .closed
            defer { state.active = [:] }
            return Array(state.active.values)
        }
        for channel in active { channel.fail(TunnelExchangeError(.tunnelFailed, reason)) }
    }
}
