import Foundation
import HopGateTestSupport
import NIOHTTP1
import Testing

/// Every admin endpoint and error case over real HTTP, against SQLite and PostgreSQL.
@Suite("Admin API over HTTP")
struct AdminAPIHTTPTests {
    static let stores: [StoreKind] = [.sqlite, .postgres]

    @Test("register, exists, status, list, rotate-key and unregister", arguments: stores)
    func lifecycle(kind: StoreKind) async throws {
        try await withAdminServer(kind) { server in
            let registered = try await server.send(.POST, "/domains/register", json: #"{"domain":"App.Example.COM.","memo":"스테이징 🚀"}"#)
            #expect(registered.status == 200)
            #expect(registered.object["success"] as? Bool == true)
            let key = try #require(registered.object["client_api_key"] as? String)
            #expect(key.count == 64)

            let exists = try await server.send(.GET, "/domains/exists?domain=app.example.com")
            #expect(exists.status == 200 && exists.object["exists"] as? Bool == true)

            let status = try await server.send(.GET, "/domains/status?domain=APP.example.com")
            #expect(status.status == 200)
            #expect(status.object["domain"] as? String == "app.example.com")
            #expect(status.object["memo"] as? String == "스테이징 🚀")
            let created = try #require(status.object["created_at"] as? String)
            #expect(try Date(created, strategy: .iso8601) <= Date())
            #expect(status.object["updated_at"] as? String == created)

            let list = try await server.send(.GET, "/domains")
            let domains = try #require(list.object["domains"] as? [[String: Any]])
            #expect(domains.map { $0["domain"] as? String } == ["app.example.com"])
            #expect(list.object["next_after"] == nil)

            let rotated = try await server.send(.POST, "/domains/rotate-key", json: #"{"domain":"app.example.com"}"#)
            #expect(rotated.status == 200)
            let newKey = try #require(rotated.object["client_api_key"] as? String)
            #expect(newKey != key && newKey.count == 64)

            let withOldKey = try await server.send(.POST, "/domains/unregister", json: #"{"domain":"app.example.com","client_api_key":"\#(key)"}"#)
            #expect(withOldKey.status == 403)
            let unregistered = try await server.send(.POST, "/domains/unregister", json: #"{"domain":"app.example.com","client_api_key":"\#(newKey)"}"#)
            #expect(unregistered.status == 200)
            #expect(unregistered.object["success"] as? Bool == true)

            let gone = try await server.send(.GET, "/domains/status?domain=app.example.com")
            #expect(gone.status == 200 && gone.object["exists"] as? Bool == false && gone.object["domain"] == nil)
            let notExists = try await server.send(.GET, "/domains/exists?domain=app.example.com")
            #expect(notExists.object["exists"] as? Bool == false)

            // One audit line per action, and never a whole key.
            let audit = server.logs.lines.filter { $0.message == "admin action" }
            #expect(audit.map { $0.metadata["action"] } == ["register", "exists", "status", "list", "rotate_key", "unregister", "unregister", "status", "exists"])
            for line in server.logs.lines { #expect(!line.description.contains(key) && !line.description.contains(newKey)) }
        }
    }

    @Test("list pages with limit and after", arguments: stores)
    func paging(kind: StoreKind) async throws {
        try await withAdminServer(kind) { server in
            for name in ["c", "a", "e", "b", "d"] {
                #expect(try await server.send(.POST, "/domains/register", json: #"{"domain":"\#(name).example.com"}"#).status == 200)
            }
            var seen: [String] = []
            var after = ""
            repeat {
                let page = try await server.send(.GET, "/domains?limit=2" + (after.isEmpty ? "" : "&after=\(after)"))
                #expect(page.status == 200)
                seen += (page.object["domains"] as? [[String: Any]] ?? []).compactMap { $0["domain"] as? String }
                after = page.object["next_after"] as? String ?? ""
            } while !after.isEmpty
            #expect(seen == ["a", "b", "c", "d", "e"].map { "\($0).example.com" })
        }
    }

    /// (method, path, body, status, words the error must contain)
    static let errorCases: [(HTTPMethod, String, String?, Int, String)] = [
        (.POST, "/domains/register", #"{"domain":"dup.example.com"}"#, 409, "already registered"),
        (.POST, "/domains/register", #"{"domain":"x.example.com","extra":1}"#, 400, "unknown field: extra"),
        (.POST, "/domains/register", #"{"domain":5}"#, 400, "domain: must be a string"),
        (.POST, "/domains/register", #"{"domain":"#, 400, "not valid JSON"),
        (.POST, "/domains/register", #"[1,2]"#, 400, "JSON object"),
        (.POST, "/domains/register", #"{"memo":"m"}"#, 400, "domain: is required"),
        (.POST, "/domains/register", #"{"domain":"no_underscores.example.com"}"#, 400, "domain:"),
        (.POST, "/domains/register", #"{"domain":"localhost"}"#, 400, "domain:"),
        (.POST, "/domains/register", #"{"domain":"m.example.com","memo":"\#(String(repeating: "x", count: 300))"}"#, 400, "memo:"),
        (.POST, "/domains/register", #"{"domain":"m.example.com","memo":"bell\u0007"}"#, 400, "memo:"),
        (.POST, "/domains/unregister", #"{"domain":"dup.example.com"}"#, 400, "client_api_key: is required"),
        (.POST, "/domains/unregister", #"{"domain":"dup.example.com","client_api_key":"short"}"#, 400, "client_api_key:"),
        (.POST, "/domains/unregister", #"{"domain":"nobody.example.com","client_api_key":"\#(String(repeating: "a", count: 64))"}"#, 404, "not registered"),
        (.POST, "/domains/unregister", #"{"domain":"dup.example.com","client_api_key":"\#(String(repeating: "a", count: 64))"}"#, 403, "does not match"),
        (.POST, "/domains/rotate-key", #"{"domain":"nobody.example.com"}"#, 404, "not registered"),
        (.POST, "/domains/rotate-key", #"{"domain":"dup.example.com","memo":"x"}"#, 400, "unknown field: memo"),
        (.GET, "/domains/exists", nil, 400, "domain: is required"),
        (.GET, "/domains/status?domain=bad..name", nil, 400, "domain:"),
        (.GET, "/domains?limit=0", nil, 400, "limit"),
        (.GET, "/domains?limit=many", nil, 400, "limit"),
        (.GET, "/domains?after=-bad-", nil, 400, "after:"),
        (.POST, "/domains/register", #"{"domain":"\#(String(repeating: "a", count: 20_000))"}"#, 413, "larger than 16384"),
    ]

    @Test("every error case answers its status with a message naming the problem", arguments: stores)
    func errors(kind: StoreKind) async throws {
        try await withAdminServer(kind) { server in
            #expect(try await server.send(.POST, "/domains/register", json: #"{"domain":"dup.example.com"}"#).status == 200)
            for (method, path, body, status, words) in Self.errorCases {
                let reply = try await server.send(method, path, json: body)
                #expect(reply.status == status, "\(method) \(path) \(body ?? ""): \(reply.text)")
                #expect(reply.object["success"] as? Bool == false, "\(path): \(reply.text)")
                #expect(reply.error?.contains(words) == true, "\(method) \(path) \(body?.prefix(80) ?? ""): expected '\(words)' in \(reply.text)")
            }
            // The server kept serving through all of that.
            #expect(try await server.send(.GET, "/domains/exists?domain=dup.example.com").object["exists"] as? Bool == true)
        }
    }

    @Test("a missing or wrong admin key gets 401 with nothing but 'unauthorized'", arguments: [
        nil, "Bearer wrong-key", "Basic YWRtaW46YWRtaW4=", "Bearer ", "bearer \(AdminServerHarness.adminKey)x",
    ])
    func unauthorized(authorization: String?) async throws {
        try await withAdminServer(.sqlite) { server in
            for (method, path) in [(HTTPMethod.GET, "/domains"), (.POST, "/domains/register"), (.GET, "/domains/exists?domain=a.example.com")] {
                let reply = try await server.send(method, path, json: method == .POST ? #"{"domain":"a.example.com"}"# : nil, authorization: authorization)
                #expect(reply.status == 401)
                #expect(reply.object.count == 2 && reply.error == "unauthorized", "\(reply.text)")
            }
            // Nothing was registered.
            #expect(try await server.send(.GET, "/domains/exists?domain=a.example.com").object["exists"] as? Bool == false)
        }
    }

    @Test("curl -d bodies (form content type) are read as JSON; other media types get 415")
    func contentTypes() async throws {
        try await withAdminServer(.sqlite) { server in
            let form = try await server.send(.POST, "/domains/register", json: #"{"domain":"form.example.com"}"#, contentType: "application/x-www-form-urlencoded")
            #expect(form.status == 200)
            let none = try await server.send(.POST, "/domains/register", json: #"{"domain":"none.example.com"}"#, contentType: nil)
            #expect(none.status == 200)
            let xml = try await server.send(.POST, "/domains/register", json: "<domain/>", contentType: "text/xml")
            #expect(xml.status == 415)
            #expect(xml.object["success"] as? Bool == false)
        }
    }

    @Test("the OpenAPI document is served, validates, and real responses match its schemas")
    func documentMatchesResponses() async throws {
        let python = try testPython()
        try await withAdminServer(.sqlite) { server in
            let served = try await server.send(.GET, "/openapi.json", authorization: nil)
            #expect(served.status == 200)
            #expect(served.object["openapi"] as? String == "3.1.0")

            var recorded: [[String: Any]] = []
            func record(_ operation: String, _ reply: AdminServerHarness.Reply) {
                recorded.append(["operation": operation, "status": reply.status, "body": reply.object])
            }
            let key = try await server.send(.POST, "/domains/register", json: #"{"domain":"doc.example.com","memo":"m"}"#)
            record("registerDomain", key)
            record("registerDomain", try await server.send(.POST, "/domains/register", json: #"{"domain":"doc.example.com"}"#))
            record("registerDomain", try await server.send(.POST, "/domains/register", json: #"{"domain":"x"}"#))
            record("registerDomain", try await server.send(.POST, "/domains/register", json: #"{}"#, authorization: nil))
            record("domainExists", try await server.send(.GET, "/domains/exists?domain=doc.example.com"))
            record("domainStatus", try await server.send(.GET, "/domains/status?domain=doc.example.com"))
            record("domainStatus", try await server.send(.GET, "/domains/status?domain=none.example.com"))
            record("listDomains", try await server.send(.GET, "/domains?limit=1"))
            let rotated = try await server.send(.POST, "/domains/rotate-key", json: #"{"domain":"doc.example.com"}"#)
            record("rotateDomainKey", rotated)
            record("rotateDomainKey", try await server.send(.POST, "/domains/rotate-key", json: #"{"domain":"none.example.com"}"#))
            let newKey = rotated.object["client_api_key"] as? String ?? ""
            record("unregisterDomain", try await server.send(.POST, "/domains/unregister", json: #"{"domain":"doc.example.com","client_api_key":"\#(String(repeating: "b", count: 64))"}"#))
            record("unregisterDomain", try await server.send(.POST, "/domains/unregister", json: #"{"domain":"doc.example.com","client_api_key":"\#(newKey)"}"#))
            record("unregisterDomain", try await server.send(.POST, "/domains/unregister", json: #"{"domain":"doc.example.com","client_api_key":"\#(newKey)"}"#))

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-recorded-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: recorded).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let output = try await runCommand([
                python, repositoryRoot.appendingPathComponent("Tests/Integration/Fixtures/check_openapi.py").path,
                repositoryRoot.appendingPathComponent("Sources/Adapters/AdminAPI/openapi.yaml").path, file.path,
            ])
            #expect(output.contains("checked 13 real responses"))
        }
    }
}

/// The Python with openapi-spec-validator that `scripts/test` prepares (HOP_TEST_PYTHON).
func testPython() throws -> String {
    guard let python = ProcessInfo.processInfo.environment["HOP_TEST_PYTHON"], !python.isEmpty else {
        throw TestEnvironmentError("HOP_TEST_PYTHON is not set: run the tests with ./scripts/test, which installs openapi-spec-validator")
    }
    return python
}
