import HTTPTypes
import Hummingbird

/// A wrong method on a known admin path gets 405 with the JSON error body and an `Allow` header
/// (as upstream HopGate answers), not the router's bare 404.
///
/// The known paths and their methods come from the embedded OpenAPI document, so they cannot
/// drift from it. The 405 routes are registered in the API's group, behind the admin-key check:
/// without the key the answer is 401, as upstream's.
enum AdminMethodNotAllowed {
    /// The methods a 405 is answered for; any other method gets the router's 404.
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    /// Registers a 405 responder on `router` for every method of `methods` that `path` lacks.
    static func register<Context: RequestContext>(path: String, allowing allowed: Set<String>, on router: RouterGroup<Context>) {
        let allow = allowed.sorted().joined(separator: ", ")
        for method in methods where !allowed.contains(method.rawValue) {
            router.on(RouterPath(path), method: method) { _, _ in
                AdminErrorBody.response(.methodNotAllowed, "method not allowed: use \(allow)", headers: [.allow: allow])
            }
        }
    }

    /// As ``register(path:allowing:on:)``, on a router itself (for paths outside the group).
    static func register<Context: RequestContext>(path: String, allowing allowed: Set<String>, on router: Router<Context>) {
        register(path: path, allowing: allowed, on: router.group())
    }
}
