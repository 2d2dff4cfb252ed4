import Foundation
public import HopGatePorts
import HopGatePostgres
import HopGateSQLite
import Logging

/// Every `DomainStore` implementation; contract tests take one as an argument
/// (`@Test(arguments: StoreKind.allCases)`) and run unchanged against each.
///
/// `.postgres` needs `HOP_TEST_POSTGRES_DSN` (set by `scripts/test`, which starts a throw-away
/// cluster); without it the test fails with a message saying so — it never skips.
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory
    case sqlite
    case postgres

    public var description: String { rawValue }
}

/// Runs `body` with a fresh, empty store of `kind`, and tears it down afterwards.
public func withStore<Result>(
    _ kind: StoreKind,
    _ body: (any DomainStore) async throws -> Result
) async throws -> Result {
    try await withStoreLocation(kind) { location in try await location.withOpenStore(body) }
}

/// Runs `body` with a fresh, empty place to keep domains (a SQLite file, a PostgreSQL
/// database), from which stores can be opened one after another — to prove that data survives
/// closing and reopening. Removes the place afterwards.
public func withStoreLocation<Result>(
    _ kind: StoreKind,
    _ body: (StoreLocation) async throws -> Result
) async throws -> Result {
    switch kind {
    case .memory:
        return try await body(StoreLocation(kind: .memory(InMemoryDomainStore())))
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-sqlite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(StoreLocation(kind: .sqlite(path: directory.appendingPathComponent("domains.sqlite").path)))
    case .postgres:
        return try await TestPostgresDatabase.with { database in
            try await body(StoreLocation(kind: .postgres(database.dsn)))
        }
    }
}

/// A place that holds domains, from which ``withOpenStore(_:)`` opens a store.
public struct StoreLocation: Sendable {
    enum Kind: Sendable {
        case memory(InMemoryDomainStore)
        case sqlite(path: String)
        case postgres(PostgresDSN)
    }
    let kind: Kind

    /// Opens a store on this location, runs `body`, and closes the store.
    public func withOpenStore<Result>(_ body: (any DomainStore) async throws -> Result) async throws -> Result {
        switch kind {
        case .memory(let store):
            return try await body(store)
        case .sqlite(let path):
            let store = try await SQLiteDomainStore.open(path: path, logger: quietLogger("test.sqlite"))
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        case .postgres(let dsn):
            let store = try PostgresDomainStore(dsn: dsn, logger: quietLogger("test.postgres"))
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                try await store.migrate()
                return try await body(store)
            }
        }
    }
}
