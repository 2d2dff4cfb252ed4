import HopGateTestSupport
import NIOHTTP1
import Testing

/// A wrong method on a known admin path: 405, the JSON error body and `Allow`, as upstream
/// HopGate answers (not a bare 404); behind the admin key like every admin call.
@Suite("Admin API: wrong methods")
struct AdminMethodNotAllowedTests {
    /// (method, path, what `Allow` must say)
    static let cases: [(HTTPMethod, String, String)] = [
        (.GET, "/domains/register", "POST"),
        (.PUT, "/domains/register", "POST"),
        (.DELETE, "/domains/unregister", "POST"),
        (.GET, "/domains/unregister", "POST"),
        (.POST, "/domains/exists?domain=a.example.com", "GET"),
        (.PATCH, "/domains/status?domain=a.example.com", "GET"),
        (.DELETE, "/domains", "GET"),
        (.GET, "/domains/rotate-key", "POST"),
    ]

    @Test("405 with {success:false, error} and an Allow header naming the right method")
    func wrongMethods() async throws {
        try await withAdminServer(.sqlite) { server in
            for (method, path, allow) in Self.cases {
                let reply = try await server.send(method, path, json: method == .POST ? "{}" : nil)
                #expect(reply.status == 405, "\(method) \(path): \(reply.status) \(reply.text)")
                #expect(reply.headers["Allow"] == [allow], "\(method) \(path): \(reply.headers)")
                #expect(reply.headers["Content-Type"].first?.hasPrefix("application/json") == true)
                #expect(reply.object.count == 2 && reply.object["success"] as? Bool == false, "\(reply.text)")
                #expect(reply.error?.contains("method not allowed") == true, "\(reply.text)")
            }
            // HEAD has no body, but the status and Allow are the same.
            let head = try await server.send(.HEAD, "/domains/register")
            #expect(head.status == 405 && head.headers["Allow"] == ["POST"])
            // The OpenAPI document is GET only, and needs no key.
            let document = try await server.send(.POST, "/openapi.json", json: "{}", authorization: nil)
            #expect(document.status == 405 && document.headers["Allow"] == ["GET"] && document.object["success"] as? Bool == false)
            // Unknown paths stay 404; nothing was registered by any of this.
            #expect(try await server.send(.GET, "/no-such-thing").status == 404)
            #expect((try await server.send(.GET, "/domains").object["domains"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("without the admin key a wrong method gets 401 first, as upstream")
    func keyComesFirst() async throws {
        try await withAdminServer(.sqlite) { server in
            let reply = try await server.send(.GET, "/domains/register", authorization: nil)
            #expect(reply.status == 401 && reply.error == "unauthorized", "\(reply.text)")
        }
    }
}
