public import HopGateDomain
public import Logging

/// Keeps one tunnel up: connects, serves exchanges, and after any failure reconnects with
/// capped, jittered exponential backoff (``ReconnectBackoff``), until the task is cancelled or
/// ``leave()`` is called (graceful shutdown: the server stops sending new exchanges, those in
/// flight finish, then ``run()`` returns). A refusal that retrying cannot fix (wrong key,
/// unknown domain, malformed hello) ends it with that error.
public struct TunnelClient: Sendable {
    /// What the client is doing, for a status line.
    public enum Status: Sendable {
        case connecting(attempt: Int)
        case connected(TunnelWelcome)
        case disconnected(reason: String, retryIn: Duration)
    }

    private let connector: any TunnelConnector
    private let hello: TunnelHello
    private let handler: any ExchangeHandler
    private let clock: any Clock<Duration>
    private let backoffTemplate: ReconnectBackoff
    private let onStatus: @Sendable (Status) -> Void
    private let logger: Logger
    private let leaving = TunnelLeaveSignal()

    public init(
        connector: any TunnelConnector,
        hello: TunnelHello,
        handler: any ExchangeHandler,
        backoff: ReconnectBackoff = ReconnectBackoff(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger,
        onStatus: @escaping @Sendable (Status) -> Void = { _ in }
    ) {
        self.connector = connector
        self.hello = hello
        self.handler = handler
        self.backoffTemplate = backoff
        self.clock = clock
        self.onStatus = onStatus
        var logger = logger
        logger[metadataKey: "component"] = "tunnel_client"
        self.logger = logger
    }

    /// Asks the server to drain this client's tunnel; ``run()`` returns once the exchanges in
    /// flight have finished, and does not reconnect.
    public func leave() { leaving.leave() }

    /// Runs until cancelled or left. - Throws: a ``TunnelRefusal`` that retrying cannot fix.
    ///
    /// A tunnel the server drains without the client asking (it redrew the tunnel onto another
    /// of its event loops, or sent a Drain for any other reason) is replaced at once: its successor
    /// connects while it finishes the exchanges in flight (make before break), so the route
    /// does not lose this client's tunnel for a drain's length plus a backoff. When the client
    /// leaves, ``run()`` returns once every tunnel still draining has ended.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { tunnels in
            try await connectOneAfterAnother(into: &tunnels)
            // Tunnels still finishing their exchanges after a successor took over.
            try await tunnels.waitForAll()
        }
    }

    /// What ended the wait on one tunnel: its end, or the start of a drain the client did not ask for.
    private enum TunnelOutcome: Sendable {
        case ended(Result<TunnelCloseReason, any Error>)
        case drainedByServer
    }

    private func connectOneAfterAnother(into tunnels: inout ThrowingTaskGroup<Void, any Error>) async throws {
        var backoff = backoffTemplate
        var attempt = 0
        while !Task.isCancelled && !leaving.isRequested {
            attempt += 1
            onStatus(.connecting(attempt: attempt))
            let reason: String
            var drained = false
            switch await runTunnel(in: &tunnels) {
            case .drainedByServer:
                // The tunnel goes on in `tunnels` until its exchanges end; its successor starts now.
                backoff.reset()
                logger.info("the server drains the tunnel: its successor connects now, while it finishes its exchanges")
                continue
            case .ended(.success(let closed)):
                backoff.reset()
                if leaving.isRequested {
                    logger.info("tunnel left", metadata: ["reason": "\(closed)"])
                    return
                }
                reason = "tunnel closed (\(closed))"
                if case .drained = closed { drained = true }
            case .ended(.failure(let refusal as TunnelRefusal)) where Self.isFatal(refusal):
                logger.error("tunnel refused", metadata: ["code": "\(refusal.code.rawValue)", "reason": "\(refusal.reason)"])
                throw refusal
            case .ended(.failure(let error)):
                if Task.isCancelled { return }
                reason = "\(error)"
            }
            let delay = backoff.nextDelay()
            // A drain the server asked for (it is shutting down, or replaced or redrew the tunnel)
            // is routine; anything else is worth a warning.
            logger.log(level: drained ? .info : .warning, "tunnel down, reconnecting", metadata: ["reason": "\(reason)", "retry_in_ms": "\(delay.milliseconds)"])
            onStatus(.disconnected(reason: reason, retryIn: delay))
            // Sleep out the backoff, unless the client leaves meanwhile.
            let clock = self.clock
            let leaving = self.leaving
            let slept = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await clock.sleep(for: delay)) != nil }
                group.addTask {
                    await leaving.requested()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !slept { return }
        }
    }

    /// Runs one tunnel as a task of `tunnels` and waits for its end, or for the server to start
    /// draining it while the client is not leaving; in that case the task goes on draining.
    private func runTunnel(in tunnels: inout ThrowingTaskGroup<Void, any Error>) async -> TunnelOutcome {
        let (outcomes, outcome) = AsyncStream.makeStream(of: TunnelOutcome.self)
        let (connector, hello, handler, leaving, logger, onStatus) = (connector, hello, handler, leaving, logger, onStatus)
        tunnels.addTask {
            let result: Result<TunnelCloseReason, any Error>
            do {
                result = .success(try await connector.run(
                    hello: hello, handler: handler, leave: leaving,
                    onDrain: { if !leaving.isRequested { outcome.yield(.drainedByServer) } }
                ) { welcome in
                    logger.info("tunnel connected", metadata: ["tunnel_id": "\(welcome.tunnelID)", "domain": "\(welcome.domain)"])
                    onStatus(.connected(welcome))
                })
            } catch {
                result = .failure(error)
            }
            outcome.yield(.ended(result))
            outcome.finish()
            // Once a successor has taken over, how this tunnel ended concerns only the log.
            if case .failure(let error) = result, !(error is CancellationError) {
                logger.debug("tunnel ended", metadata: ["error": "\(error)"])
            }
        }
        for await next in outcomes { return next }
        return .ended(.failure(CancellationError()))
    }

    /// Refusals that a retry would only repeat.
    static func isFatal(_ refusal: TunnelRefusal) -> Bool {
        switch refusal.code {
        case .unauthenticated, .permissionDenied, .invalidHello: return true
        case .tooManyTunnels, .unavailable: return false
        }
    }
}
