import HopGateDomain
import HopGateEdge
import HopGateGRPCTransport
import HopGatePorts
import Logging
import ServiceLifecycle

/// What the tunnel concern hands the rest of the server.
struct ServerTunnel {
    /// Where the HTTPS edge hands tunnel connections over (nil when the tunnel has a port of its own).
    let handoff: SharedPortTunnelHandoff?
    /// The tunnel listener.
    let services: [any Service]
}

extension ServerRuntime {
    /// The hub that admits tunnel clients and routes exchanges to them.
    func makeTunnelHub(store: any DomainStore, throttle: AuthenticationThrottle) -> TunnelHub {
        TunnelHub(
            administration: DomainAdministration(store: store, logger: Logger(label: "admin")),
            configuration: .init(policy: configuration.tunnelPolicy, serverVersion: HopGateVersion.current),
            throttle: throttle, logger: Logger(label: "tunnels"))
    }

    /// The gRPC tunnel listener: on the HTTPS port, unless HOP_TUNNEL_LISTEN names a port of its own.
    func makeTunnelListeners(hub: TunnelHub) -> ServerTunnel {
        let logger = self.logger
        if let tunnel = configuration.tunnelListen {
            let listener = GRPCTunnelListener(
                host: tunnel.host, port: tunnel.port, logger: Logger(label: "tunnels"), maximumStreams: configuration.maximumTunnelStreams,
                onListening: { port in
                    logger.notice("tunnel endpoint (gRPC, plaintext) listening on \(ListenAddress(host: tunnel.host, port: port))")
                })
            return ServerTunnel(handoff: nil, services: [TunnelListenerService(listener: listener, acceptor: hub)])
        }
        let handoff = SharedPortTunnelHandoff()
        let listener = GRPCTunnelListener(
            sharing: handoff, logger: Logger(label: "tunnels"), maximumStreams: configuration.maximumTunnelStreams)
        return ServerTunnel(handoff: handoff, services: [TunnelListenerService(listener: listener, acceptor: hub)])
    }
}

/// Runs a ``TunnelListener`` (a port, which knows nothing of service lifecycles) until the
/// graceful shutdown cancels it.
struct TunnelListenerService: Service {
    let listener: any TunnelListener
    let acceptor: any TunnelAcceptor

    func run() async throws {
        try await cancelWhenGracefulShutdown { [listener, acceptor] in try await listener.run(acceptor: acceptor) }
    }
}
