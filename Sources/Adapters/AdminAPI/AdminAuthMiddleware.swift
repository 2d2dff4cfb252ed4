import HTTPTypes
import HopGateDomain
import Hummingbird
import Logging

/// Refuses every request without the admin key (`Authorization: Bearer …`) with 401 and the
/// single word "unauthorized": no hint whether the header was missing, malformed or wrong.
/// The comparison is constant-time (``AdminCredential``). `exempt` paths (the OpenAPI document)
/// need no key.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let credential: AdminCredential
    let exempt: Set<String>
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if exempt.contains(request.uri.path) { return try await next(request, context) }
        guard credential.authorizes(authorizationHeader: request.headers[.authorization]) else {
            logger.warning("admin request refused", metadata: [
                "action": "auth", "outcome": "unauthorized", "method": "\(request.method)", "path": "\(request.uri.path)",
            ])
            return AdminErrorBody.response(.unauthorized, "unauthorized", headers: [.wwwAuthenticate: #"Bearer realm="hopgate-admin""#])
        }
        return try await next(request, context)
    }
}
