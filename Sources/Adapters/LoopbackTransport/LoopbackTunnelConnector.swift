import AsyncAlgorithms
public import HopGateDomain
public import HopGatePorts

/// The client side of the loopback transport.
public struct LoopbackTunnelConnector: TunnelConnector {
    /// Misbehaviour to inject, for tests of the server's fault handling only.
    public struct Faults: Sendable {
        /// The client sends no heartbeats (the server must notice).
        public var stopsAnsweringHeartbeats: Bool
        public init(stopsAnsweringHeartbeats: Bool = false) { self.stopsAnsweringHeartbeats = stopsAnsweringHeartbeats }
    }

    private let network: LoopbackTunnelNetwork
    private let faults: Faults

    public init(network: LoopbackTunnelNetwork, faults: Faults = .init()) {
        self.network = network
        self.faults = faults
    }

    public func run(
        hello: TunnelHello, handler: any ExchangeHandler, leave: TunnelLeaveSignal,
        onDrain: @escaping @Sendable () -> Void,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        guard let acceptor = network.currentAcceptor else { throw LoopbackUnreachable() }
        let welcome = try await acceptor.admit(hello, peer: .unknown)
        let (events, sink) = AsyncStream.makeStream(of: LoopbackTunnelSession.Event.self)
        let session = LoopbackTunnelSession(welcome: welcome, events: sink)
        await acceptor.tunnelOpened(session)
        onWelcome(welcome)
        let interval = welcome.heartbeatInterval
        let faults = self.faults
        let outcome: Result<TunnelCloseReason, any Error>
        do {
            let reason = try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
                group.addTask {  // the client's heartbeats, and the server's clock over the session
                    while true {
                        try await Task.sleep(for: interval)
                        if !faults.stopsAnsweringHeartbeats {
                            session.heard()
                            await acceptor.tunnelHeard(session.id)
                        }
                        if let reason = session.tick() {
                            // The exchanges in flight fail as cut off, before the client's handlers stop.
                            session.markClosed(reason: "the tunnel closed (\(reason))")
                            return reason
                        }
                    }
                }
                group.addTask {  // the client serving exchanges until the server closes the tunnel
                    await withDiscardingTaskGroup { jobs -> TunnelCloseReason in
                        for await event in events {
                            switch event {
                            case .job(let job): jobs.addTask { await Self.serve(job, with: handler) }
                            case .drain: onDrain()  // the server sends no new jobs; those in flight go on
                            case .close(let reason): jobs.cancelAll(); return reason
                            }
                        }
                        return .transportClosed
                    }
                }
                group.addTask {  // the client asking to leave: the server drains the tunnel
                    await leave.requested()
                    if leave.isRequested { await acceptor.tunnelWantsToLeave(session.id) }
                    return nil
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let reason = result { return reason }
                }
                return .transportClosed
            }
            outcome = .success(reason)
        } catch {
            outcome = .failure(error)
        }
        session.markClosed(reason: "the tunnel ended")
        sink.finish()
        switch outcome {
        case .success(let reason):
            await acceptor.tunnelClosed(session.id, reason: reason)
            if reason == .heartbeatTimeout { throw LoopbackHeartbeatTimeout() }
            return reason
        case .failure(let error):
            await acceptor.tunnelClosed(session.id, reason: .transportClosed)
            throw error
        }
    }

    /// Runs the handler for one exchange; the server side finishing the exchange cancels it.
    private static func serve(_ job: LoopbackTunnelSession.Job, with handler: any ExchangeHandler) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await handler.handle(job.head, requestBody: PartStream(job.requestBody), response: PartWriter { part in
                        guard !job.ended.isSet else { throw TunnelExchangeError(.tunnelFailed, "the exchange has ended") }
                        await job.response.send(part)
                    })
                    job.response.finish()
                } catch {
                    job.response.fail(TunnelExchangeError(.upstreamFailed, "\(error)"))
                }
                // A handler may end without reading the whole request body; release the sender.
                job.requestBody.finish()
            }
            group.addTask { for await _ in job.done {} }
            await group.next()
            group.cancelAll()
        }
    }
}

/// No listener is running on the loopback network.
public struct LoopbackUnreachable: Error, CustomStringConvertible {
    public var description: String { "no loopback tunnel listener is running" }
}

/// The loopback tunnel ended because the client stopped sending heartbeats.
public struct LoopbackHeartbeatTimeout: Error, CustomStringConvertible {
    public var description: String { "heartbeat timeout" }
}
