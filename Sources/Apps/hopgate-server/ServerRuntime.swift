import HopGateObservability
import HopGatePorts
import HopGatePostgres
import HopGateSQLite
import Logging
import ServiceLifecycle
import UnixSignals

/// The server's composition root: picks the adapters the configuration names, wires them to the
/// use cases, and runs them as one service group that stops cleanly on SIGTERM/SIGINT.
struct ServerRuntime {
    let configuration: ServerConfiguration
    let logger: Logger
    /// The process-wide metrics backend (bootstrapped once by the command), rendered at `/metrics`.
    let exporter: PrometheusExporter
    /// `dev --demo`: see ``DemoMode``.
    var demo = false

    func run() async throws {
        let pool = PostgresPoolSettings(
            maximumConnections: configuration.databaseMaximumConnections, idleTimeout: configuration.databaseIdleTimeout)
        do {
            try await DomainStoreScope.with(configuration.store, pool: pool, storeLogger: Logger(label: "store"), logger: logger) { store in
                try await runServices(store: store)
            }
        } catch let error as DomainStoreScope.OpeningError {
            throw ServerStartupError(message: error.message)
        }
    }

    /// Wires the adapters around `store` and runs them until SIGTERM/SIGINT. Each concern
    /// (certificates, admin API, tunnel, edge, operations) is built in a `ServerRuntime+…` file;
    /// the services are listed in dependency order, so that they stop in reverse.
    private func runServices(store: any DomainStore) async throws {
        // One throttle for admin-key and client-key failures: an address guessing either is turned away from both.
        let throttle = AuthenticationThrottle(policy: .init(maximumFailures: configuration.authMaximumFailures, lockout: configuration.authLockout))
        let hub = makeTunnelHub(store: store, throttle: throttle)
        var services: [any Service] = []
        let certificates = try makeCertificates(store: store)
        services += certificates.services
        // The hub verifies hellos through an administration of its own; this one tells the hub
        // when a domain is unregistered or its key rotated (its tunnels close).
        let administration = DomainAdministration(store: store, observers: [hub, certificates.provisioner], logger: Logger(label: "admin"))
        let admin = try makeAdminAPI(administration: administration, throttle: throttle, routes: hub)
        services += admin.services
        let tunnel = makeTunnelListeners(hub: hub)
        services += tunnel.services
        let edge = makeEdge(
            hub: hub, administration: administration, certificates: certificates, site: admin.site, tunnelHandoff: tunnel.handoff)
        services += edge.services
        if demo {
            services.append(try makeDemo(administration: administration, certificates: certificates, edge: edge))
        }
        if let operations = makeOperationsServer(store: store, certificates: certificates, edge: edge) {
            services.append(operations)
        }
        services.append(FreeHeapReturner())
        try await runGroup(services)
    }

    /// Runs `services` as one group. On SIGTERM they stop in reverse order: the edges first (no
    /// new connections; those open finish their requests), then the tunnels, the admin API
    /// last. Past the grace period whatever is left is cancelled.
    private func runGroup(_ services: [any Service]) async throws {
        var groupConfiguration = ServiceGroupConfiguration(
            // Named by type: ServiceLifecycle's default, `"\(service)"`, reflects each whole value.
            services: services.map { .init(service: $0, serviceName: _typeName(type(of: $0), qualified: false)) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        logger.notice("stopped")
    }
}

/// A failure that stops start-up; its message names the setting or resource at fault.
struct ServerStartupError: Error {
    let message: String
}
