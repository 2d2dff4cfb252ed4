import Foundation
import HopGateTestSupport
import Testing

extension UpstreamMigrationTests {
    /// The whole move: upstream's `.env` and upstream's database (its exact table, a client key
    /// in plain text), `import-upstream`, then `serve` on the same `.env`, and upstream's client
    /// connects with the key it already has.
    @Test("with upstream's .env and database: import-upstream, then serve, and upstream's client key opens a tunnel")
    func importThenServe() async throws {
        try await TestPostgresDatabase.with { database in
            let key = String(repeating: "c0ffee42", count: 8)
            try await UpstreamSchema.create(on: database.dsn)
            try await UpstreamSchema.insert(domain: "app.example.com", key: key, memo: "upstream", on: database.dsn)
            try await withUpstreamEnv(databaseURL: database.url) { envFile, directory in
                let path = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
                // HOP_DB_DSN from upstream's .env: HopGate's tables go next to upstream's.
                let report = try await runCommand(
                    [binary("hopgate-server"), "import-upstream", "--from", database.url, "--env-file", envFile], environment: path)
                #expect(report.contains("copied app.example.com\n") && report.hasSuffix("1 copied, 0 skipped\n"), "\(report)")

                let metricsPort = try freeLoopbackPort()
                let httpsPort = try freeLoopbackPort()
                let environment = path.merging([
                    "HOP_CERTIFICATES": "self-signed", "HOP_DATA_DIR": directory + "/data", "HOP_METRICS_LISTEN": "127.0.0.1:\(metricsPort)",
                ]) { $1 }
                try await withChildProcess(binary("hopgate-server"), [
                    "serve", "--env-file", envFile, "--http-listen", "127.0.0.1:0", "--https-listen", "127.0.0.1:\(httpsPort)",
                    "--admin-listen", "127.0.0.1:0",
                ], environment: environment) { server in
                    try await Self.waitUntilReady(metricsPort: metricsPort, server: server)
                    try await withTestBackend { backend in
                        try await GatewayProcesses.withClient(
                            domain: "app.example.com", key: key, httpsPort: httpsPort, caFile: directory + "/data/ca/ca.pem",
                            backend: backend, extraArguments: ["--server-name", "example.com"]
                        ) { client in
                            _ = try await client.waitForOutput(containing: "tunnel up for app.example.com")
                        }
                    }
                }
            }
            #expect(try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM domains", on: database.dsn) == 1)
        }
    }
}
