public import Foundation
public import HopGateDomain
public import HopGatePorts
public import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// A ``DomainStore`` in one SQLite file: the store for a laptop or a single small server.
///
/// - The file is opened in WAL mode, so readers in other processes (a backup, `sqlite3`) never
///   block the server, and with a 5 s busy timeout, after which a locked database is reported as
///   ``DomainStoreError/Code/unavailable`` instead of waiting forever.
/// - Migrations run inside `BEGIN IMMEDIATE` at ``open(path:logger:)``, so two processes that open
///   the same new file at once apply each step exactly once.
/// - Concurrency: one connection opened with `SQLITE_OPEN_FULLMUTEX`, driven by a thread of its
///   own (never the shared blocking pool, which a long busy wait could starve); every operation is a single
///   statement, so operations from many tasks are serialised by SQLite itself and each one is
///   atomic. Uniqueness is the table's `UNIQUE` constraint, never a read-then-write.
public final class SQLiteDomainStore: DomainStore {
    private let connection: SQLiteConnection
    private let threadPool: NIOThreadPool
    private let closed = Mutex(false)
    /// The database file.
    public let path: String

    private init(connection: SQLiteConnection, threadPool: NIOThreadPool, path: String) {
        self.connection = connection
        self.threadPool = threadPool
        self.path = path
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date. The
    /// parent directory is created when missing.
    public static func open(path: String, logger: Logger = Logger(label: "hopgate.sqlite")) async throws(DomainStoreError) -> SQLiteDomainStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw DomainStoreError(.unavailable, "cannot create the data directory \(directory): \(error.localizedDescription)")
            }
        }
        // A thread of the store's own: SQLite calls block (a busy wait can last seconds), and on
        // the shared blocking pool two stores waiting on each other's lock could starve it.
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: threadPool, logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any())
        } catch {
            try? await threadPool.shutdownGracefully()
            throw DomainStoreError.sqlite(error, while: "open of \(path)")
        }
        let store = SQLiteDomainStore(connection: connection, threadPool: threadPool, path: path)
        do {
            try await store.retryingWhileLocked { () async throws(DomainStoreError) in
                try await store.configure()
                try await store.migrate(logger: logger)
            }
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Closes the connection. Further calls fail with ``DomainStoreError/Code/unavailable``.
    public func close() async {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        // The future-returning close runs even when the calling task is cancelled (the async one
        // would throw CancellationError first and leave the handle open).
        guard wasOpen else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        try? await closing.get()
        try? await threadPool.shutdownGracefully()
    }

    // MARK: DomainStore

    public func create(_ record: DomainRecord) async throws(DomainStoreError) {
        let row = StoredDomainRow(record)
        try await execute(
            "INSERT INTO domains (id, domain, key_hash, memo, created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(row.id), .text(row.domain), .text(row.keyHash), .text(row.memo),
             .integer(Int(row.createdAtMicroseconds)), .integer(Int(row.updatedAtMicroseconds))],
            operation: "insert of \(record.domain)"
        )
    }

    public func find(_ domain: DomainName) async throws(DomainStoreError) -> DomainRecord? {
        try await records(
            "SELECT \(Self.columns) FROM domains WHERE domain = ?", [.text(domain.value)],
            operation: "lookup of \(domain)"
        ).first
    }

    public func delete(_ domain: DomainName, keyHash: ClientAPIKeyHash) async throws(DomainStoreError) -> Bool {
        let deleted = try await rows(
            "DELETE FROM domains WHERE domain = ? AND key_hash = ? RETURNING id",
            [.text(domain.value), .text(keyHash.hex)],
            operation: "delete of \(domain)"
        )
        return !deleted.isEmpty
    }

    public func replaceKeyHash(of domain: DomainName, with keyHash: ClientAPIKeyHash, at updatedAt: Date) async throws(DomainStoreError) -> DomainRecord? {
        try await records(
            "UPDATE domains SET key_hash = ?, updated_at_us = ? WHERE domain = ? RETURNING \(Self.columns)",
            [.text(keyHash.hex), .integer(Int(updatedAt.storageMicroseconds)), .text(domain.value)],
            operation: "key update of \(domain)"
        ).first
    }

    public func list(after cursor: DomainName?, limit: Int) async throws(DomainStoreError) -> [DomainRecord] {
        guard limit > 0 else { throw DomainStoreError(.invalidArgument, "limit must be positive") }
        if let cursor {
            return try await records(
                "SELECT \(Self.columns) FROM domains WHERE domain > ? ORDER BY domain LIMIT ?",
                [.text(cursor.value), .integer(limit)], operation: "list")
        }
        return try await records(
            "SELECT \(Self.columns) FROM domains ORDER BY domain LIMIT ?", [.integer(limit)], operation: "list")
    }

    public func count() async throws(DomainStoreError) -> Int {
        let result = try await rows("SELECT COUNT(*) AS n FROM domains", [], operation: "count")
        guard let count = result.first?.column("n")?.integer else {
            throw DomainStoreError(.internal, "SQLite count returned no number")
        }
        return Int(count)
    }

    // MARK: Internals

    private static let columns = "id, domain, key_hash, memo, created_at_us, updated_at_us"

    private func configure() async throws(DomainStoreError) {
        // `busy_timeout` replaces the driver's retry-forever busy handler with a bounded wait.
        try await execute("PRAGMA busy_timeout = 5000", [], operation: "configuration")
        let mode = try await rows("PRAGMA journal_mode = WAL", [], operation: "configuration")
        guard mode.first?.column("journal_mode")?.string?.lowercased() == "wal" else {
            throw DomainStoreError(.unavailable, "SQLite database \(path) cannot use WAL mode (is it on a network file system?)")
        }
        // FULL: each commit is on disk before it is acknowledged. A client key is shown once, so
        // a registration answered 201 must survive a crash or a disk that fails right after
        // (NORMAL lost it when ext4 went read-only under the server: found by a fault test).
        // Writes are rare here; the fsync per commit costs nothing that matters.
        try await execute("PRAGMA synchronous = FULL", [], operation: "configuration")
    }

    /// Runs `body` again while another process holds the write lock. SQLite skips the busy
    /// handler when waiting could deadlock (two connections switching to WAL or starting their
    /// first transaction together), so opening must retry by itself.
    private func retryingWhileLocked(_ body: () async throws(DomainStoreError) -> Void) async throws(DomainStoreError) {
        // Generous: processes starting together on a loaded machine queue behind each other's
        // migrations (one open failed within 10 s on a slow CI machine).
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await body()
            } catch where error.isLocked && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 20...120)))
            }
        }
    }

    private func migrate(logger: Logger) async throws(DomainStoreError) {
        try await execute("BEGIN IMMEDIATE", [], operation: "migration")
        do {
            try await execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)",
                [], operation: "migration")
            let applied = try await rows("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations", [], operation: "migration")
            let current = Int(applied.first?.column("v")?.integer ?? 0)
            for step in SQLiteMigrations.steps where step.version > current {
                for statement in step.statements {
                    try await execute(statement, [], operation: "migration \(step.version)")
                }
                try await execute(
                    "INSERT INTO schema_migrations (version, applied_at_us) VALUES (?, ?)",
                    [.integer(step.version), .integer(Int(Date().storageMicroseconds))], operation: "migration \(step.version)")
                logger.info("applied schema migration", metadata: ["version": "\(step.version)", "path": "\(path)"])
            }
            try await execute("COMMIT", [], operation: "migration")
        } catch {
            try? await execute("ROLLBACK", [], operation: "migration rollback")
            throw error
        }
    }

    private func records(_ sql: String, _ binds: [SQLiteData], operation: String) async throws(DomainStoreError) -> [DomainRecord] {
        var result: [DomainRecord] = []
        for row in try await rows(sql, binds, operation: operation) {
            result.append(try Self.record(from: row))
        }
        return result
    }

    private static func record(from row: SQLiteRow) throws(DomainStoreError) -> DomainRecord {
        guard let id = row.column("id")?.string, let domain = row.column("domain")?.string,
              let keyHash = row.column("key_hash")?.string, let memo = row.column("memo")?.string,
              let created = row.column("created_at_us")?.integer, let updated = row.column("updated_at_us")?.integer
        else { throw DomainStoreError(.corrupted, "a stored domain row has a missing or mistyped column") }
        return try StoredDomainRow(
            id: id, domain: domain, keyHash: keyHash, memo: memo,
            createdAtMicroseconds: Int64(created), updatedAtMicroseconds: Int64(updated)
        ).record()
    }

    private func execute(_ sql: String, _ binds: [SQLiteData], operation: String) async throws(DomainStoreError) {
        _ = try await rows(sql, binds, operation: operation)
    }

    private func rows(_ sql: String, _ binds: [SQLiteData], operation: String) async throws(DomainStoreError) -> [SQLiteRow] {
        if closed.withLock({ $0 }) { throw DomainStoreError(.unavailable, "the SQLite store is closed") }
        let collected = Mutex<[SQLiteRow]>([])
        do {
            try await connection.query(sql, binds) { row in collected.withLock { $0.append(row) } }
        } catch {
            throw DomainStoreError.sqlite(error, while: operation)
        }
        return collected.withLock { $0 }
    }
}
