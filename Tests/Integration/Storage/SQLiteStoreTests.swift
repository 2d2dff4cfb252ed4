import Foundation
import HopGateDomain
import HopGatePorts
import HopGateSQLite
import HopGateTestSupport
import Testing

/// What only the SQLite store promises beyond the `DomainStore` contract.
@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("processes opening the same new file together migrate it once, in WAL mode")
    func concurrentOpen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/nested/dir/domains.sqlite"
            let stores = try await withThrowingTaskGroup(of: SQLiteDomainStore.self) { group in
                for _ in 0..<4 { group.addTask { try await SQLiteDomainStore.open(path: path) } }
                var opened: [SQLiteDomainStore] = []
                do {
                    for try await store in group { opened.append(store) }
                } catch {
                    // Close what did open, so the failure is reported (a store dropped open trips
                    // SQLiteNIO's debug assertion and takes the whole test process down).
                    for store in opened { await store.close() }
                    while let result = await group.nextResult() {
                        if case .success(let store) = result { await store.close() }
                    }
                    throw error
                }
                return opened
            }
            try await stores[0].create(DomainRecord(
                domain: try DomainName(parsing: "w.example.com"), keyHash: ClientAPIKey.generate().hash,
                memo: .empty, createdAt: Date().truncatedToStorageResolution))
            for store in stores {
                #expect(try await store.count() == 1)
                await store.close()
            }
            let migrations = try await runCommand(["/usr/bin/python3", "-c", """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                print(db.execute("select count(*) from schema_migrations").fetchone()[0],
                      db.execute("pragma journal_mode").fetchone()[0])
                """, path])
            #expect(migrations.trimmingCharacters(in: .whitespacesAndNewlines) == "1 wal")
        }
    }

    @Test("a file that is not a database is refused with a clear error")
    func notADatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/junk.sqlite"
            try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
            let error = await #expect(throws: DomainStoreError.self) { _ = try await SQLiteDomainStore.open(path: path) }
            #expect(error?.code == .corrupted)
        }
    }

    @Test("a closed store reports itself unavailable")
    func closedStore() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteDomainStore.open(path: directory + "/c.sqlite")
            await store.close()
            let error = await #expect(throws: DomainStoreError.self) { _ = try await store.count() }
            #expect(error?.code == .unavailable)
        }
    }
}

/// Runs `body` with a new empty directory that is removed afterwards.
func withTemporaryDirectory<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.path)
}
