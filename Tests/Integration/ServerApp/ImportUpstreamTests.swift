import Foundation
import HopGateTestSupport
import Testing

/// `hopgate-server import-upstream` against a real PostgreSQL holding upstream HopGate's table,
/// in the same database as HopGate's own: copies, skips with reasons, copies nothing the second
/// time, leaves upstream's table as it was, and the imported key opens a tunnel.
@Suite("import-upstream", .serialized)
struct ImportUpstreamTests {
    /// An upstream key: 64 lowercase hexadecimal characters, as upstream generates them.
    static let key = String(repeating: "3f9a0c1d", count: 8)
    static let otherKey = String(repeating: "77", count: 32)

    @Test("copies upstream's domains once, reports every row without a key, and the imported key opens a tunnel")
    func importsAndServes() async throws {
        try await TestPostgresDatabase.with { database in
            try await UpstreamSchema.create(on: database.dsn)
            try await UpstreamSchema.insert(domain: "app.example.com", key: Self.key, memo: "from upstream", on: database.dsn)
            try await UpstreamSchema.insert(domain: "bad_name.example.com", key: Self.otherKey, on: database.dsn)
            try await UpstreamSchema.insert(domain: "short.example.com", key: "0123456789abcdef", on: database.dsn)
            let before = try await TestPostgresDatabase.text(UpstreamSchema.fingerprintQuery, on: database.dsn)

            let first = try await importUpstream(database)
            #expect(first.contains("read 3 domains from upstream HopGate"), "\(first)")
            #expect(first.contains("copied app.example.com\n"), "\(first)")
            #expect(first.contains("skipped bad_name.example.com: invalid domain name:"), "\(first)")
            #expect(first.contains("skipped short.example.com: invalid key: the client API key must be 64 characters long, not 16"), "\(first)")
            #expect(first.hasSuffix("1 copied, 2 skipped\n"), "\(first)")

            let second = try await importUpstream(database)
            #expect(second.contains("skipped app.example.com: already present\n"), "\(second)")
            #expect(second.hasSuffix("nothing to copy: 0 copied, 3 skipped\n"), "\(second)")
            for output in [first, second] {
                #expect(!output.contains(Self.key) && !output.contains(Self.otherKey) && !output.contains("0123456789abcdef"))
            }

            #expect(try await TestPostgresDatabase.text(UpstreamSchema.fingerprintQuery, on: database.dsn) == before)
            #expect(try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM hopgate_domains", on: database.dsn) == 1)
            let stored = try await TestPostgresDatabase.text("SELECT key_hash || ' ' || memo FROM hopgate_domains", on: database.dsn)
            #expect(stored?.hasSuffix(" from upstream") == true && stored?.contains(Self.key) == false)

            // The upstream client's key works against HopGate serving from that store.
            try await withTemporaryDirectory { directory in
                try await withTestBackend { backend in
                    try await GatewayProcesses.withServer(dataDirectory: directory, settings: ["HOP_DB_DSN": database.url]) { server in
                        try await GatewayProcesses.withClient(domain: "app.example.com", key: Self.key, server: server, backend: backend) { client in
                            _ = try await client.waitForOutput(containing: "tunnel up for app.example.com")
                            let reply = try await GatewayProcesses.curl(server, "app.example.com", .http1, ["URL/imported"])
                            #expect(reply == "hello from backend GET /imported")
                        }
                    }
                }
            }
        }
    }

    @Test("a database without upstream's table is refused with one line, and nothing is written")
    func refusesAnotherDatabase() async throws {
        try await TestPostgresDatabase.with { database throws in
            let error = await #expect(throws: ChildProcessError.self) { try await importUpstream(database) }
            #expect(error?.message.contains("has no table named domains: is it upstream HopGate's?") == true, "\(String(describing: error))")
            #expect(try await TestPostgresDatabase.scalar("SELECT (to_regclass('hopgate_domains') IS NOT NULL)::int::bigint", on: database.dsn) == 0)
        }
    }

    /// Runs `hopgate-server import-upstream --from <database>` with HOP_DB_DSN naming the same database.
    private func importUpstream(_ database: TestPostgresDatabase) async throws -> String {
        try await runCommand(
            [binary("hopgate-server"), "import-upstream", "--from", database.url, "--env-file", "/nonexistent"],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOP_DB_DSN": database.url])
    }
}
