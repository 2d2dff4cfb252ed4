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
    public func run() async throws {
        var backoff = backoffTemplate
        var attempt = 0
        while !Task.isCancelled && !leaving.isRequested {
            attempt += 1
            onStatus(.connecting(attempt: attempt))
            let reason: String
            var drained = false
            do {
                let closed = try await connector.run(hello: hello, handler: handler, leave: leaving) { [logger, onStatus] welcome in
                    logger.info("tunnel connected", metadata: ["tunnel_id": "\(welcome.tunnelID)", "domain": "\(welcome.domain)"])
                    onStatus(.connected(welcome))
                }
                backoff.reset()
                if leaving.isRequested {
                    logger.info("tunnel left", metadata: ["reason": "\(closed)"])
                    return
                }
                reason = "tunnel closed (\(closed))"
                if case .drained = closed { drained = true }
            } catch let refusal as TunnelRefusal where Self.isFatal(refusal) {
                logger.error("tunnel refused", metadata: ["code": "\(refusal.code.rawValue)", "reason": "\(refusal.reason)"])
                throw refusal
            } catch {
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

    /// Refusals that a retry would only repeat.
    static func isFatal(_ refusal: TunnelRefusal) -> Bool {
        switch refusal.code {
        case .unauthenticated, .permissionDenied, .invalidHello: return true
        case .tooManyTunnels, .unavailable: return false
        }
    }
}
