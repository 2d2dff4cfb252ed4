import Foundation
import HopGateTestSupport
import Testing

/// The real `hopgate-server` process with PostgreSQL: curl and the `domains` command line.
@Suite("hopgate-server admin, end to end")
struct AdminCommandLineTests {
    static let adminKey = "cli-test-admin-key-0123456789abcdef01234"

    @Test("curl and `hopgate-server domains …` register, list, rotate, check and unregister")
    func endToEnd() async throws {
        try await TestPostgresDatabase.with { database in try await run(dsn: database.url) }
    }

    private func run(dsn: String) async throws {
        let server = binary("hopgate-server")
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_ADMIN_API_KEY"] = Self.adminKey
        environment["HOP_SERVER_DOMAIN"] = "hopgate.example.com"
        environment["HOP_LOG_FORMAT"] = "json"
        try await withChildProcess(server, ["serve", "--admin-listen", "127.0.0.1:0", "--db-dsn", dsn, "--env-file", "/nonexistent"], environment: environment) { process in
            let output = try await process.waitForOutput(containing: "admin API listening on ")
            let url = try #require(output.firstMatch(of: /admin API listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            let password = try #require(URLComponents(string: dsn)?.password)
            #expect(!output.contains(password), "the DSN password leaked into the log")

            var cli = environment
            cli["HOP_ADMIN_URL"] = url
            func domains(_ arguments: String...) async throws -> String {
                try await runCommand([server, "domains"] + arguments + ["--env-file", "/nonexistent"], environment: cli)
            }

            // curl, the upstream way.
            let registered = try await runCommand([
                "curl", "-s", "-H", "Authorization: Bearer \(Self.adminKey)", "-d", #"{"domain":"curl.example.com","memo":"via curl"}"#,
                "\(url)/api/v1/admin/domains/register",
            ])
            #expect(registered.contains(#""success" : true"#) && registered.contains("client_api_key"))

            let register = try await domains("register", "cli.example.com", "--memo", "via the CLI")
            let key = try #require(register.firstMatch(of: /shown once\): ([A-Za-z0-9_-]{64})/)?.1).description
            let list = try await domains("list", "--page-size", "1")
            #expect(list.contains("cli.example.com") && list.contains("curl.example.com") && list.contains("2 domains"))
            #expect(try await domains("status", "cli.example.com").contains("memo:       via the CLI"))
            #expect(try await domains("exists", "cli.example.com") == "yes\n")
            let rotated = try await domains("rotate-key", "cli.example.com")
            let newKey = try #require(rotated.firstMatch(of: /shown once\): ([A-Za-z0-9_-]{64})/)?.1).description
            #expect(newKey != key)

            var withOldKey = cli
            withOldKey["HOP_CLIENT_API_KEY"] = key
            await #expect(throws: ChildProcessError.self) {
                try await runCommand([server, "domains", "unregister", "cli.example.com", "--env-file", "/nonexistent"], environment: withOldKey)
            }
            var withNewKey = cli
            withNewKey["HOP_CLIENT_API_KEY"] = newKey
            _ = try await runCommand([server, "domains", "unregister", "cli.example.com", "--env-file", "/nonexistent"], environment: withNewKey)
            #expect(try await domains("exists", "cli.example.com") == "no\n")

            // A wrong admin key: one line, exit 1.
            var wrong = cli
            wrong["HOP_ADMIN_API_KEY"] = "not-the-admin-key-at-all-0123456789"
            let refused = await #expect(throws: ChildProcessError.self) {
                try await runCommand([server, "domains", "list", "--env-file", "/nonexistent"], environment: wrong)
            }
            #expect(refused?.message.contains("unauthorized (HTTP 401)") == true)

            // The admin actions were logged as JSON lines, never with a whole key.
            let log = process.output
            #expect(log.contains(#""action":"rotate_key""#))
            #expect(!log.contains(key) && !log.contains(newKey))

            // SIGTERM stops it cleanly.
            process.send(SIGTERM)
            _ = try await process.waitForOutput(containing: "stopped", timeout: .seconds(10))
        }
    }
}

/// A product built by `scripts/test` (`HOP_TEST_BIN_DIR`, else `.build/debug`).
func binary(_ name: String) -> String {
    let directory = ProcessInfo.processInfo.environment["HOP_TEST_BIN_DIR"] ?? repositoryRoot.appendingPathComponent(".build/debug").path
    return "\(directory)/\(name)"
}
