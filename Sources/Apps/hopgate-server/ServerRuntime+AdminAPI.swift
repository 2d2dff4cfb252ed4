import HopGateAdminAPI
import HopGateDomain
import HopGatePorts
import Logging
import ServiceLifecycle

/// What the admin API concern hands the rest of the server.
struct ServerAdminAPI {
    /// How the edge serves the admin API on the server's own domain (nil without an admin listener).
    let site: ServerSiteRoute?
    /// The admin API's listener.
    let services: [any Service]
}

extension ServerRuntime {
    /// The admin API's own listener (`HOP_ADMIN_LISTEN`) and the route that serves it on the
    /// server's own domain, in process. Both run one responder. With the listener off there is
    /// no admin API at all, on the edge neither.
    func makeAdminAPI(administration: DomainAdministration, throttle: AuthenticationThrottle, routes: any ServedRoutes) throws -> ServerAdminAPI {
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
        let domain = configuration.domain
        let adminLogger = Logger(label: "admin")
        let responder = try AdminAPIServer.responder(
            administration: administration, credential: credential, throttle: throttle, routes: routes, logger: adminLogger)
        let server = AdminAPIServer.service(
            responder: responder, host: admin.host, port: admin.port, logger: adminLogger,
            onListening: { port in
                logger.notice("admin API listening on http://\(ListenAddress(host: admin.host, port: port))\(AdminAPIServer.basePath) and https://\(domain)\(AdminAPIServer.basePath)")
            })
        let site = ServerSiteRoute(
            domain: domain, pathPrefix: AdminAPIServer.basePath, handler: AdminAPISite(responder: responder, logger: adminLogger))
        return ServerAdminAPI(site: site, services: [server])
    }
}
