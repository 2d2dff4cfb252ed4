import HTTPTypes
import HopGateDomain
import HopGatePorts
import Hummingbird
import Logging

/// Refuses every request without the admin key (`Authorization: Bearer …`) with 401 and the
/// single word "unauthorized": no hint whether the header was missing, malformed or wrong.
/// The comparison is constant-time (``AdminCredential``). `exempt` paths (the OpenAPI document)
/// need no key. An address with too many failed attempts gets 429 with `Retry-After` until its
/// lockout ends, whatever key it sends (``AuthenticationThrottle``).
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let credential: AdminCredential
    let exempt: Set<String>
    let throttle: AuthenticationThrottle
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if exempt.contains(request.uri.path) { return try await next(request, context) }
        let address = context.clientAddress
        if let delay = throttle.retryDelay(for: address) {
            let seconds = delay.components.seconds + 1
            return AdminErrorBody.response(
                .tooManyRequests, "too many failed authentications from \(address.address); retry in \(seconds) s",
                headers: [.retryAfter: "\(seconds)"])
        }
        guard credential.authorizes(authorizationHeader: request.headers[.authorization]) else {
            let lockedOut = throttle.recordFailure(from: address)
            logger.warning("admin request refused", metadata: [
                "action": "auth", "outcome": "unauthorized", "method": "\(request.method)", "path": "\(request.uri.path)",
                "address": "\(address)",
            ])
            if lockedOut {
                logger.warning("address turned away after repeated authentication failures", metadata: [
                    "address": "\(address)", "lockout_s": "\(throttle.policy.lockout.components.seconds)"])
            }
            return AdminErrorBody.response(.unauthorized, "unauthorized", headers: [.wwwAuthenticate: #"Bearer realm="hopgate-admin""#])
        }
        throttle.recordSuccess(from: address)
        return try await next(request, context)
    }
}
