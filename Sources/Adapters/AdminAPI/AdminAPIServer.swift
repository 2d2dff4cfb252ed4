public import HopGateDomain
public import HopGatePorts
public import Hummingbird
public import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
public import ServiceLifecycle

/// The admin REST API (`/api/v1/admin`, described by `openapi.yaml`): a driving adapter over
/// ``DomainAdministration``.
///
/// Requests pass, in order: the admin-key check (401 "unauthorized"; 429 for an address with too
/// many failed attempts, see ``AuthenticationThrottle``), a 16 KiB body limit (413),
/// the generated decoder (400 naming the field), then ``AdminAPIHandler``. A wrong method on a
/// known path gets 405 with `Allow` (``AdminMethodNotAllowed``). The OpenAPI document
/// itself is served without a key at `/api/v1/admin/openapi.json`.
public enum AdminAPIServer {
    /// Where the API is mounted.
    public static let basePath = "/api/v1/admin"
    /// The largest request body accepted, in bytes.
    public static let maximumBodyBytes = 16 * 1024

    /// The API's routes, for mounting in an HTTP server.
    public static func router(
        administration: DomainAdministration, credential: AdminCredential, throttle: AuthenticationThrottle = .init(),
        routes: any ServedRoutes = NoServedRoutes(), logger: Logger
    ) throws -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        let documentPath = "\(basePath)/openapi.json"
        router.get(RouterPath(documentPath)) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        AdminMethodNotAllowed.register(path: documentPath, allowing: ["GET"], on: router)
        let document = OpenAPIDocumentIndex(json: OpenAPIDocument.json)
        let api = router.group(RouterPath(basePath))
            .add(middleware: AdminAuthMiddleware(credential: credential, exempt: [documentPath], throttle: throttle, logger: logger))
            .add(middleware: AdminRequestGuard(maximumBodyBytes: maximumBodyBytes, document: document, logger: logger))
        try AdminAPIHandler(administration: administration, routes: routes).registerHandlers(on: api)
        for (path, methods) in document.methodsByPath {
            AdminMethodNotAllowed.register(path: path, allowing: methods, on: api)
        }
        return router
    }

    /// The API's responder: what the admin listener (``service(responder:host:port:logger:onListening:)``)
    /// and the public edge (``AdminAPISite``) both serve, so both behave alike.
    public static func responder(
        administration: DomainAdministration, credential: AdminCredential, throttle: AuthenticationThrottle = .init(),
        routes: any ServedRoutes = NoServedRoutes(), logger: Logger
    ) throws -> RouterResponder<AdminRequestContext> {
        try router(administration: administration, credential: credential, throttle: throttle, routes: routes, logger: logger).buildResponder()
    }

    /// A server for the API alone on `host:port` (port 0 picks a free one; `onListening` is told
    /// which).
    public static func service(
        administration: DomainAdministration, credential: AdminCredential, throttle: AuthenticationThrottle = .init(),
        host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> any Service {
        service(
            responder: try responder(administration: administration, credential: credential, throttle: throttle, logger: logger),
            host: host, port: port, logger: logger, onListening: onListening)
    }

    /// A server on `host:port` for a responder made by ``responder(administration:credential:throttle:logger:)``.
    public static func service(
        responder: RouterResponder<AdminRequestContext>, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> any Service {
        Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "hopgate"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
