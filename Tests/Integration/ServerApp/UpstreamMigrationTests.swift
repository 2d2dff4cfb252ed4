import Foundation
import HopGateTestSupport
import Testing

/// A user arriving from upstream HopGate (the Go project) with its `.env`: every setting
/// upstream's config code reads (internal/config, cmd/server, cmd/client, internal/acme,
/// internal/store, internal/errorpages) is understood, carried over or named with its
/// replacement, and the server still starts.
@Suite("Coming from upstream HopGate")
struct UpstreamMigrationTests {
    static let adminKey = "upstream-admin-key-0123456789abcdef012345"
    static let lokiPassword = "loki-password-must-not-leak"

    /// Upstream's `.env.example` with every optional line filled in, and the database given.
    static func upstreamEnv(databaseURL: String) -> String {
        """
        # hop-gate .env, as upstream's .env.example has it
        HOP_LOG_LEVEL=warn
        HOP_LOKI_ENABLE=false
        HOP_LOKI_ENDPOINT=http://loki:3100/loki/api/v1/push
        HOP_LOKI_TENANT_ID=tenant-1
        HOP_LOKI_USERNAME=loki
        HOP_LOKI_PASSWORD=\(lokiPassword)
        HOP_LOKI_STATIC_LABELS="app=hop-gate,env=dev,region=ap-northeast-2"
        HOP_SERVER_HTTP_LISTEN=:8080
        HOP_SERVER_HTTPS_LISTEN=:8443
        HOP_SERVER_DTLS_LISTEN=:8443
        HOP_SERVER_DOMAIN=example.com
        HOP_SERVER_PROXY_DOMAINS=app.example.com,api.example.com
        HOP_SERVER_DEBUG=true
        HOP_SERVER_PROXY_TIMEOUT_SECONDS=15
        HOP_ADMIN_API_KEY=\(adminKey)
        HOP_ACME_EMAIL=admin@example.com
        HOP_ACME_CACHE_DIR=./acme-cache
        HOP_ACME_CA_DIR=https://acme-staging-v02.api.letsencrypt.org/directory
        HOP_ACME_USE_STAGING=true
        HOP_ACME_EXPECT_IPS=1.2.3.4,5.6.7.8
        HOP_ACME_WEBROOT=./acme-webroot
        HOP_ACME_STANDALONE_ONLY=false
        HOP_ERROR_PAGES_DIR=./errors
        HOP_ERROR_ASSETS_DIR=./errors/assets
        HOP_DB_DSN=\(databaseURL)
        HOP_DB_MAX_OPEN_CONNS=7
        HOP_DB_MAX_IDLE_CONNS=5
        HOP_DB_CONN_MAX_LIFETIME=30m
        HOP_CLIENT_SERVER_ADDR=localhost:8443
        HOP_CLIENT_DOMAIN=test.example.com
        HOP_CLIENT_API_KEY=\(String(repeating: "k", count: 64))
        HOP_CLIENT_LOCAL_TARGET=127.0.0.1:8080
        HOP_CLIENT_DEBUG=true

        """
    }

    /// The settings upstream reads that HopGate replaces, as the server warns about them.
    static let replacedOnServer = [
        "HOP_SERVER_DEBUG", "HOP_SERVER_DTLS_LISTEN", "HOP_SERVER_PROXY_DOMAINS", "HOP_SERVER_PROXY_TIMEOUT_SECONDS",
        "HOP_ACME_CA_DIR", "HOP_ACME_CACHE_DIR", "HOP_ACME_WEBROOT", "HOP_ACME_EXPECT_IPS", "HOP_ACME_STANDALONE_ONLY",
        "HOP_DB_MAX_OPEN_CONNS", "HOP_DB_MAX_IDLE_CONNS", "HOP_DB_CONN_MAX_LIFETIME", "HOP_ERROR_ASSETS_DIR",
        "HOP_LOKI_ENABLE", "HOP_LOKI_ENDPOINT", "HOP_LOKI_TENANT_ID", "HOP_LOKI_USERNAME", "HOP_LOKI_PASSWORD", "HOP_LOKI_STATIC_LABELS",
    ]

    /// Writes the upstream `.env` into a new directory and runs `body` with its path.
    func withUpstreamEnv<R>(databaseURL: String, _ body: (_ envFile: String, _ directory: String) async throws -> R) async throws -> R {
        try await withTemporaryDirectory { directory in
            let file = directory + "/.env"
            try Self.upstreamEnv(databaseURL: databaseURL).write(toFile: file, atomically: true, encoding: .utf8)
            return try await body(file, directory)
        }
    }

    static func occurrences(of text: String, in output: String) -> Int {
        output.components(separatedBy: text).count - 1
    }

    @Test("the server starts with upstream's .env, warns once per replaced setting, and logs at warn level")
    func serverStarts() async throws {
        try await TestPostgresDatabase.with { database in try await startServer(databaseURL: database.url) }
    }

    func startServer(databaseURL: String) async throws {
        try await withUpstreamEnv(databaseURL: databaseURL) { envFile, directory in
            let metricsPort = try freeLoopbackPort()
            let environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                // Ours, for a test machine: no ACME CA to reach, a data directory of its own, free ports.
                "HOP_CERTIFICATES": "self-signed", "HOP_DATA_DIR": directory + "/data",
                "HOP_METRICS_LISTEN": "127.0.0.1:\(metricsPort)",
            ]
            try await withChildProcess(binary("hopgate-server"), [
                "serve", "--env-file", envFile, "--http-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:0",
            ], environment: environment) { server in
                try await Self.waitUntilReady(metricsPort: metricsPort, server: server)
                let log = server.output
                for name in Self.replacedOnServer {
                    #expect(Self.occurrences(of: "\(name) is an upstream HopGate setting", in: log) == 1, "\(name): \(log)")
                }
                #expect(!log.contains("HOP_CLIENT_DEBUG"), "the client's setting is the client's business")
                #expect(!log.contains("not a HopGate setting"), "every upstream setting is understood: \(log)")
                #expect(!log.contains(Self.lokiPassword) && !log.contains(Self.adminKey))
                #expect(!log.contains("public HTTPS listening"), "HOP_LOG_LEVEL=warn hides notices")
            }
        }
    }

    /// Polls `/readyz` until the server answers `ready`.
    static func waitUntilReady(metricsPort: Int, server: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let body = try? await runCommand(["curl", "-sS", "--max-time", "2", "http://127.0.0.1:\(metricsPort)/readyz"]), body == "ready\n" { return }
            guard server.process.isRunning else { throw NotReady(description: "the server exited: \(server.output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NotReady(description: "the server never became ready: \(server.output)")
    }

    struct NotReady: Error, CustomStringConvertible { let description: String }

    @Test("check-config names every replaced setting with its replacement and shows the values carried over")
    func checkConfig() async throws {
        let password = "db-password-must-not-leak"
        try await withUpstreamEnv(databaseURL: "postgres://hopgate:\(password)@127.0.0.1:5432/hopgate?sslmode=disable") { envFile, _ in
            let output = try await runCommand(
                [binary("hopgate-server"), "check-config", "--env-file", envFile],
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
            for name in Self.replacedOnServer {
                #expect(Self.occurrences(of: "warning: \(name) is an upstream HopGate setting; HopGate replaces it with ", in: output) == 1, "\(name): \(output)")
            }
            #expect(!output.contains("not a HopGate setting"), "\(output)")
            #expect(output.contains("configuration OK"), "\(output)")
            #expect(output.contains("acme https://acme-staging-v02.api.letsencrypt.org/directory"), "HOP_ACME_CA_DIR carried over: \(output)")
            #expect(output.contains("HOP_PROXY_TIMEOUT") && output.contains("15.0 seconds"), "\(output)")
            #expect(output.contains("7 (PostgreSQL only)"), "HOP_DB_MAX_OPEN_CONNS carried over: \(output)")
            #expect(output.contains("1800.0 seconds (PostgreSQL only)"), "HOP_DB_CONN_MAX_LIFETIME carried over: \(output)")
            #expect(output.contains("warning"), "\(output)")
            #expect(!output.contains(password) && !output.contains(Self.lokiPassword) && !output.contains(Self.adminKey))
        }
    }

    @Test("an unknown HOP_* name in the environment is named by check-config")
    func unknownName() async throws {
        try await withUpstreamEnv(databaseURL: "postgres://hopgate@127.0.0.1:5432/hopgate") { envFile, _ in
            let output = try await runCommand(
                [binary("hopgate-server"), "check-config", "--env-file", envFile],
                environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOP_SERVER_DOMIAN": "typo.example.com"])
            #expect(output.contains("warning: HOP_SERVER_DOMIAN is not a HopGate setting"), "\(output)")
        }
    }

    @Test("the client takes upstream's --server-addr and .env, and warns about HOP_CLIENT_DEBUG only")
    func client() async throws {
        try await withUpstreamEnv(databaseURL: "postgres://hopgate@127.0.0.1:5432/hopgate") { envFile, _ in
            let port = try freeLoopbackPort()
            try await withChildProcess(binary("hopgate-client"), [
                "--server-addr", "127.0.0.1:\(port)", "--plaintext", "--env-file", envFile, "--log-level", "notice",
            ], environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { client in
                let log = try await client.waitForOutput(containing: "connecting to 127.0.0.1:\(port)")
                #expect(Self.occurrences(of: "HOP_CLIENT_DEBUG is an upstream HopGate setting", in: log) == 1, "\(log)")
                for name in ["HOP_LOKI_ENABLE", "HOP_LOKI_PASSWORD"] {
                    #expect(Self.occurrences(of: "\(name) is an upstream HopGate setting", in: log) == 1, "\(log)")
                }
                #expect(!log.contains("HOP_SERVER_DEBUG") && !log.contains("not a HopGate setting"), "\(log)")
                #expect(!log.contains(Self.lokiPassword))
            }
        }
    }
}
