import Foundation
import HopGateDomain
import HopGatePorts
import HopGatePostgres
import HopGateTestSupport
import Logging
import Testing

/// What only the PostgreSQL store promises beyond the `DomainStore` contract.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test("servers migrating the same new database together apply each step once")
    func concurrentMigrations() async throws {
        try await TestPostgresDatabase.with { database in try await migrateTogether(database) }
    }

    private func migrateTogether(_ database: TestPostgresDatabase) async throws {
        let stores = try (0..<4).map { _ in try PostgresDomainStore(dsn: database.dsn, logger: quietLogger("test.postgres")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.run() } }
            try await withThrowingTaskGroup(of: Void.self) { migrations in
                for store in stores { migrations.addTask { try await store.migrate() } }
                try await migrations.waitForAll()
            }
            // Every store sees one schema and the same data.
            try await stores[0].create(DomainRecord(
                domain: try DomainName(parsing: "m.example.com"), keyHash: ClientAPIKey.generate().hash,
                memo: .empty, createdAt: Date().truncatedToStorageResolution))
            for store in stores { #expect(try await store.count() == 1) }
            group.cancelAll()
        }
        let applied = try await TestPostgresDatabase.scalar("SELECT COUNT(*)::bigint FROM hopgate_schema_migrations", on: database.dsn)
        #expect(applied == 1)
    }

    @Test("the store reconnects by itself after the server restarts, and reports it unavailable meanwhile")
    func reconnectsAfterRestart() async throws {
        try await withTestPostgresCluster { cluster in
            // 5 s: short enough that "unavailable" comes quickly (the migration has its own,
            // longer deadline: a fresh cluster's first one can take seconds on a loaded machine).
            let store = try PostgresDomainStore(dsn: cluster.dsn, logger: quietLogger("test.postgres"), operationTimeout: .seconds(5))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                try await store.migrate()
                let record = DomainRecord(
                    domain: try DomainName(parsing: "r.example.com"), keyHash: ClientAPIKey.generate().hash,
                    memo: .empty, createdAt: Date().truncatedToStorageResolution)
                try await store.create(record)

                try await cluster.stop()
                let error = await #expect(throws: DomainStoreError.self) { try await store.count() }
                #expect(error?.code == .unavailable)

                try await cluster.start()
                // The pool may need a moment to notice its connections died; it must not need us.
                var found: DomainRecord?
                for _ in 0..<50 where found == nil {
                    found = try? await store.find(record.domain)
                    if found == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(found == record)

                try await cluster.restart()
                var count: Int?
                for _ in 0..<50 where count == nil {
                    count = try? await store.count()
                    if count == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(count == 1)
            }
        }
    }

    @Test("a wrong password is reported as unavailable without the password in the message")
    func wrongPassword() async throws {
        let cluster = try TestPostgresDatabase.clusterDSN()
        let wrong = try PostgresDSN(parsing: "postgres://postgres:not-the-password-42@\(cluster.host):\(cluster.port)/postgres?sslmode=disable")
        let store = try PostgresDomainStore(dsn: wrong, logger: quietLogger("test.postgres"), operationTimeout: .seconds(3))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            let error = await #expect(throws: DomainStoreError.self) { try await store.count() }
            #expect(error?.code == .unavailable)
            #expect(error.map { "\($0)" }?.contains("not-the-password-42") == false)
        }
        #expect(!wrong.redacted.contains("not-the-password-42"))
    }

    @Test("DSNs are parsed strictly and name what is wrong", arguments: [
        ("mysql://u@h/db", "postgres://"),
        ("postgres:///db", "host"),
        ("postgres://h/db", "user"),
        ("postgres://u@h/db?sslmode=maybe", "sslmode"),
        ("postgres://u@h/db?timeout=3", "timeout"),
    ])
    func dsnErrors(input: String, named: String) {
        #expect {
            _ = try PostgresDSN(parsing: input)
        } throws: { error in
            "\(error)".contains(named)
        }
    }
}
