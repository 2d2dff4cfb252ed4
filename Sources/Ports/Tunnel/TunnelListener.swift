public import HopGateDomain

/// Accepts tunnels from clients (server side of a transport). Implemented by the gRPC and the
/// loopback transports; `Tests/Contract` holds the suite both must pass.
public protocol TunnelListener: Sendable {
    /// Accepts tunnels until the calling task is cancelled or the service is shut down.
    /// Each hello goes to `acceptor`; admitted tunnels are reported open and, later, closed.
    func run(acceptor: any TunnelAcceptor) async throws
}

/// Decides about hellos and keeps track of open tunnels (the server's ``TunnelHub``).
public protocol TunnelAcceptor: Sendable {
    /// Checks a hello. - Throws: ``TunnelRefusal`` to refuse it.
    /// - Parameter peer: the client's address, for logs and the authentication throttle.
    func admit(_ hello: TunnelHello, peer: PeerAddress) async throws(TunnelRefusal) -> TunnelWelcome

    /// An admitted tunnel is ready for exchanges. Called once per admitted hello, unless the
    /// transport failed first (then only ``tunnelClosed(_:reason:)`` is called).
    func tunnelOpened(_ connection: any TunnelConnection) async

    /// The tunnel `id` ended. Called exactly once for every admitted hello.
    func tunnelClosed(_ id: TunnelID, reason: TunnelCloseReason) async

    /// A heartbeat or frame was heard from tunnel `id` (for liveness tracking and metrics).
    func tunnelHeard(_ id: TunnelID) async

    /// The client of tunnel `id` is shutting down: give it no new exchanges and drain it.
    func tunnelWantsToLeave(_ id: TunnelID) async

    /// The transport has learnt which of the edge's event loops tunnel `id`'s connection runs
    /// on (after ``tunnelOpened(_:)``; at most once, and not at all where it cannot tell).
    func tunnelPlaced(_ id: TunnelID, on placement: TunnelPlacement) async
}

extension TunnelAcceptor {
    public func tunnelHeard(_ id: TunnelID) async {}
    public func tunnelPlaced(_ id: TunnelID, on placement: TunnelPlacement) async {}
}
