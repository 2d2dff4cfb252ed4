import Foundation
import HopGateDomain
import HopGatePorts
import HopGatePostgres
import HopGateTestSupport
import Testing

/// HopGate's tables are its own (`hopgate_*`): it shares a database with upstream HopGate without
/// touching upstream's `domains`, and an installation of an earlier HopGate, which used
/// `domains` itself, moves to the new names with every row.
@Suite("PostgreSQL store in a shared database")
struct PostgresSharedDatabaseTests {
    @Test("migrating next to upstream HopGate's domains table leaves it exactly as it was")
    func upstreamTableUntouched() async throws {
        try await TestPostgresDatabase.with { database in
            try await UpstreamSchema.create(on: database.dsn)
            try await UpstreamSchema.insert(domain: "app.example.com", key: String(repeating: "a1", count: 32), memo: "upstream", on: database.dsn)
            let before = try await TestPostgresDatabase.text(UpstreamSchema.fingerprintQuery, on: database.dsn)

            try await withMigratedStore(database) { store in
                // The same name in HopGate's own table: no clash with upstream's row or its index names.
                #expect(try await store.count() == 0)
                try await store.create(DomainRecord(
                    domain: try DomainName(parsing: "app.example.com"), keyHash: ClientAPIKey.generate().hash,
                    memo: .empty, createdAt: Date().truncatedToStorageResolution))
                #expect(try await store.count() == 1)
            }
            try await withMigratedStore(database) { store throws in
                #expect(try await store.count() == 1)
            }

            #expect(try await TestPostgresDatabase.text(UpstreamSchema.fingerprintQuery, on: database.dsn) == before)
            #expect(try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM domains", on: database.dsn) == 1)
            #expect(try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM hopgate_schema_migrations", on: database.dsn) == 1)
            #expect(try await TestPostgresDatabase.scalar("SELECT (to_regclass('schema_migrations') IS NOT NULL)::int::bigint", on: database.dsn) == 0)
        }
    }

    @Test("an earlier HopGate's domains and schema_migrations move to hopgate_* with every row")
    func legacyLayoutIsAdopted() async throws {
        try await TestPostgresDatabase.with { database in
            // Exactly what the earlier step 1 created.
            for statement in [
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                """
                CREATE TABLE domains (
                    id uuid PRIMARY KEY, domain text NOT NULL,
                    key_hash text NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
                    memo text NOT NULL DEFAULT '', created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
                    CONSTRAINT domains_domain_key UNIQUE (domain))
                """,
                "INSERT INTO schema_migrations (version) VALUES (1)",
            ] { try await TestPostgresDatabase.execute(statement, on: database.dsn) }
            let key = ClientAPIKey.generate()
            let id = UUID()
            try await TestPostgresDatabase.execute("""
                INSERT INTO domains VALUES ('\(id.uuidString)', 'old.example.com', '\(key.hash.hex)', 'kept',
                    '2025-01-02 03:04:05.678901+00', '2025-01-03 03:04:05+00')
                """, on: database.dsn)

            try await withMigratedStore(database) { store in
                let record = try #require(try await store.find(try DomainName(parsing: "old.example.com")))
                #expect(record.id == id && record.memo.text == "kept" && record.keyHash.matches(key))
                #expect(record.createdAt == Date(storageMicroseconds: 1_735_787_045_678_901))
                #expect(try await store.count() == 1)
            }
            for table in ["domains", "schema_migrations"] {
                #expect(try await TestPostgresDatabase.scalar("SELECT (to_regclass('\(table)') IS NOT NULL)::int::bigint", on: database.dsn) == 0)
            }
            #expect(try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM hopgate_schema_migrations", on: database.dsn) == 1)
            // The constraints and their indexes carry HopGate's prefix too.
            let unprefixed = try await TestPostgresDatabase.scalar(
                "SELECT COUNT(*)::bigint FROM pg_constraint WHERE conrelid = 'hopgate_domains'::regclass AND conname NOT LIKE 'hopgate\\_%'",
                on: database.dsn)
            #expect(unprefixed == 0)
        }
    }

    private func withMigratedStore(_ database: TestPostgresDatabase, _ body: (PostgresDomainStore) async throws -> Void) async throws {
        let store = try PostgresDomainStore(dsn: database.dsn, logger: quietLogger("test.postgres"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            try await body(store)
        }
    }
}
