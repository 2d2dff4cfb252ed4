import HopGateAdminAPI
import HopGateDomain
import HopGateLocalForwarder
import HopGatePorts
import Logging
import ServiceLifecycle

/// What the admin API concern hands the rest of the server.
struct ServerAdminAPI {
    /// How the edge reaches the admin API on the server's own domain (nil without an admin listener).
    let site: ServerSiteRoute?
    /// The admin API's listener, then the closing of the edge's forwarder to it.
    let services: [any Service]
}

extension ServerRuntime {
    /// The admin API's own listener (`HOP_ADMIN_LISTEN`) and the route that serves it on the
    /// server's own domain.
    func makeAdminAPI(administration: DomainAdministration, throttle: AuthenticationThrottle) throws -> ServerAdminAPI {
        let credential: AdminCredential
        do {
            credential = try AdminCredential(
                configuredKey: configuration.adminKey,
                mode: configuration.mode == .development ? .development : .production)
        } catch {
            throw ServerStartupError(message: "HOP_ADMIN_API_KEY is refused: \(error.description)")
        }
        guard let admin = configuration.adminListen else { return ServerAdminAPI(site: nil, services: []) }
        let logger = self.logger
        let adminPort = BoundPort(configured: admin.port)
        let domain = configuration.domain
        let server = try AdminAPIServer.service(
            administration: administration, credential: credential, throttle: throttle,
            host: admin.host, port: admin.port, logger: Logger(label: "admin"),
            onListening: { port in
                adminPort.bound(port)
                logger.notice("admin API listening on http://\(ListenAddress(host: admin.host, port: port))\(AdminAPIServer.basePath) and https://\(domain)\(AdminAPIServer.basePath)")
            })
        // The edge serves the admin API on the server's own domain by forwarding to it.
        let forwarder = HTTPClientLocalForwarder()
        let adminHost = ["0.0.0.0", "::", ""].contains(admin.host) ? "127.0.0.1" : admin.host
        let site = ServerSiteRoute(domain: domain, pathPrefix: AdminAPIServer.basePath, forwarder: forwarder) {
            LocalTarget(host: adminHost, port: adminPort.value)
        }
        return ServerAdminAPI(site: site, services: [server, ForwarderShutdown(forwarder: forwarder)])
    }
}

/// Closes the admin forwarder's pooled connections once the edges that use it have stopped
/// (it is listed before them, so it stops after them).
struct ForwarderShutdown: Service {
    let forwarder: HTTPClientLocalForwarder

    func run() async throws {
        try? await gracefulShutdown()
        try? await forwarder.shutdown()
    }
}
