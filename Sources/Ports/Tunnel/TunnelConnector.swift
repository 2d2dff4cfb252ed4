public import HopGateDomain

/// Opens tunnels to a server (client side of a transport).
public protocol TunnelConnector: Sendable {
    /// Connects, says `hello`, and then serves the server's exchanges with `handler`,
    /// each on its own stream and concurrently, until the tunnel ends.
    ///
    /// - Parameter onWelcome: called once when the server admits the tunnel.
    /// - Returns: why the tunnel ended when it ended in an orderly way (a drain).
    /// - Throws: ``TunnelRefusal`` when the server refuses the hello; a transport error when
    ///   the connection fails or the server stops answering heartbeats.
    /// - Parameter leave: when it fires, the tunnel is drained at the client's request: no new
    ///   exchanges, those in flight finish, then `run` returns `.drained`.
    /// - Parameter onDrain: called once when the server starts draining the tunnel (it sends no
    ///   new exchanges; those in flight go on until `run` returns), whether the server chose to
    ///   or the client asked to leave. A client that did not ask connects the tunnel's successor
    ///   then, without waiting for the drain to end (``TunnelClient``).
    func run(
        hello: TunnelHello,
        handler: any ExchangeHandler,
        leave: TunnelLeaveSignal,
        onDrain: @escaping @Sendable () -> Void,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason
}

extension TunnelConnector {
    /// ``run(hello:handler:leave:onDrain:onWelcome:)`` for a client that is not told of a drain's start.
    public func run(
        hello: TunnelHello,
        handler: any ExchangeHandler,
        leave: TunnelLeaveSignal,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        try await run(hello: hello, handler: handler, leave: leave, onDrain: {}, onWelcome: onWelcome)
    }

    /// ``run(hello:handler:leave:onDrain:onWelcome:)`` for a client that never asks to leave.
    public func run(
        hello: TunnelHello,
        handler: any ExchangeHandler,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        try await run(hello: hello, handler: handler, leave: TunnelLeaveSignal(), onDrain: {}, onWelcome: onWelcome)
    }
}

/// Serves one exchange on the client: reads the request body, writes the response parts.
/// Throwing before writing a head makes the server answer 502; after, the public response is
/// cut off (reset).
public protocol ExchangeHandler: Sendable {
    /// Runs on the caller's executor (`nonisolated(nonsending)`): the exchange's task, on the
    /// tunnel stream's event loop.
    nonisolated(nonsending) func handle(
        _ head: ExchangeRequestHead,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws
}
