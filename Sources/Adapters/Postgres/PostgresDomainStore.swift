public import Foundation
public import HopGateDomain
public import HopGatePorts
public import Logging
import PostgresNIO
public import ServiceLifecycle

/// A ``DomainStore`` in PostgreSQL: the production store.
///
/// - A `PostgresClient` connection pool; it reconnects by itself when the server restarts (the
///   calls made while it is down fail with ``DomainStoreError/Code/unavailable`` after at most
///   ``operationTimeout``, and the next ones succeed once it is back).
/// - ``run()`` keeps the pool alive (it is a `Service`); call ``migrate()`` once it runs.
/// - Migrations take a transaction-scoped advisory lock, so servers starting together apply each
///   step exactly once.
/// - Its tables are HopGate's own (`hopgate_domains`, `hopgate_schema_migrations`), so it can
///   share a database with upstream HopGate's `domains` and never touches it
///   (``PostgresMigrations``).
/// - Timestamps travel as integer microseconds and are stored as `timestamptz`, so a stored date
///   reads back exactly.
public final class PostgresDomainStore: DomainStore, Service {
    private let client: PostgresClient
    private let logger: Logger
    /// The address, for logs (password redacted).
    public let dsn: PostgresDSN
    /// The longest any one call waits (for a connection and its query) before it fails.
    public let operationTimeout: Duration
    /// The longest ``migrate()`` waits. Longer than ``operationTimeout`` on purpose: a migration
    /// queues behind other servers' migrations (the advisory lock) and commits DDL, which on a
    /// busy disk takes seconds; failing it fails the server's start. (Four stores migrating one
    /// database together under a loaded CI machine once exceeded 10 s.)
    public let migrationTimeout: Duration

    /// The pool's size and idle timeout.
    public let pool: PostgresPoolSettings

    public init(
        dsn: PostgresDSN, pool: PostgresPoolSettings = .init(), logger: Logger = Logger(label: "hopgate.postgres"),
        operationTimeout: Duration = .seconds(10), migrationTimeout: Duration = .seconds(60)
    ) throws(PostgresDSNError) {
        self.dsn = dsn
        self.pool = pool
        self.logger = logger
        self.operationTimeout = operationTimeout
        self.migrationTimeout = migrationTimeout
        self.client = PostgresClient(configuration: try dsn.clientConfiguration(pool: pool), backgroundLogger: logger)
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async throws {
        await client.run()
    }

    /// Brings the schema up to date; safe to call from several servers at once.
    public func migrate() async throws(DomainStoreError) {
        let logger = self.logger
        try await bounded("migration", timeout: migrationTimeout) { client in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.advisoryLockKey))", logger: logger)
                let ledgerQuery: PostgresQuery = "SELECT to_regclass('hopgate_schema_migrations') IS NOT NULL"
                let hadLedger = try await connection.query(ledgerQuery, logger: logger).collect().first?.decode(Bool.self) ?? false
                try await connection.query(PostgresQuery(unsafeSQL: PostgresMigrations.adoptLegacyLayout), logger: logger)
                if !hadLedger, try await connection.query(ledgerQuery, logger: logger).collect().first?.decode(Bool.self) == true {
                    logger.notice("moved an earlier HopGate's tables to their own names", metadata: [
                        "from": "domains, schema_migrations", "to": "hopgate_domains, hopgate_schema_migrations"])
                }
                try await connection.query(PostgresQuery(unsafeSQL: PostgresMigrations.createLedger), logger: logger)
                var current = 0
                for try await version in try await connection.query(
                    "SELECT COALESCE(MAX(version), 0)::integer FROM hopgate_schema_migrations", logger: logger
                ).decode(Int.self) {
                    current = version
                }
                for step in PostgresMigrations.steps where step.version > current {
                    for statement in step.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("INSERT INTO hopgate_schema_migrations (version) VALUES (\(step.version))", logger: logger)
                    logger.info("applied schema migration", metadata: ["version": "\(step.version)"])
                }
            }
        }
    }

    // MARK: DomainStore

    public func create(_ record: DomainRecord) async throws(DomainStoreError) {
        let row = StoredDomainRow(record)
        let id = record.id
        let logger = self.logger
        try await bounded("insert of \(record.domain)") { client -> Void in
            try await Self.withLiveConnection(client) { connection in
                _ = try await connection.query("""
                    INSERT INTO hopgate_domains (id, domain, key_hash, memo, created_at, updated_at)
                    VALUES (\(id), \(row.domain), \(row.keyHash), \(row.memo),
                            \(unescaped: Self.epoch) + \(row.createdAtMicroseconds) * interval '1 microsecond',
                            \(unescaped: Self.epoch) + \(row.updatedAtMicroseconds) * interval '1 microsecond')
                    """, logger: logger)
            }
        }
    }

    public func find(_ domain: DomainName) async throws(DomainStoreError) -> DomainRecord? {
        try await records("lookup of \(domain)",
            "SELECT \(unescaped: Self.columns) FROM hopgate_domains WHERE domain = \(domain.value)").first
    }

    public func delete(_ domain: DomainName, keyHash: ClientAPIKeyHash) async throws(DomainStoreError) -> Bool {
        try await !records("delete of \(domain)", """
            DELETE FROM hopgate_domains WHERE domain = \(domain.value) AND key_hash = \(keyHash.hex)
            RETURNING \(unescaped: Self.columns)
            """).isEmpty
    }

    public func replaceKeyHash(of domain: DomainName, with keyHash: ClientAPIKeyHash, at updatedAt: Date) async throws(DomainStoreError) -> DomainRecord? {
        try await records("key update of \(domain)", """
            UPDATE hopgate_domains SET key_hash = \(keyHash.hex),
                   updated_at = \(unescaped: Self.epoch) + \(updatedAt.storageMicroseconds) * interval '1 microsecond'
            WHERE domain = \(domain.value)
            RETURNING \(unescaped: Self.columns)
            """).first
    }

    public func list(after cursor: DomainName?, limit: Int) async throws(DomainStoreError) -> [DomainRecord] {
        guard limit > 0 else { throw DomainStoreError(.invalidArgument, "limit must be positive") }
        if let cursor {
            return try await records("list", """
                SELECT \(unescaped: Self.columns) FROM hopgate_domains WHERE domain COLLATE "C" > \(cursor.value)
                ORDER BY domain COLLATE "C" LIMIT \(limit)
                """)
        }
        return try await records("list",
            "SELECT \(unescaped: Self.columns) FROM hopgate_domains ORDER BY domain COLLATE \"C\" LIMIT \(limit)")
    }

    public func count() async throws(DomainStoreError) -> Int {
        let logger = self.logger
        return try await bounded("count") { client in
            try await Self.withLiveConnection(client) { connection in
                var count = 0
                for try await value in try await connection.query("SELECT COUNT(*)::bigint FROM hopgate_domains", logger: logger).decode(Int64.self) {
                    count = Int(value)
                }
                return count
            }
        }
    }

    // MARK: Internals

    private static let epoch = "timestamptz '1970-01-01 00:00:00+00'"
    private static let columns = """
        id, domain, key_hash, memo,
        (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint,
        (EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint
        """

    private func records(_ operation: String, _ query: PostgresQuery) async throws(DomainStoreError) -> [DomainRecord] {
        let logger = self.logger
        let rows = try await bounded(operation) { client in try await Self.withLiveConnection(client) { connection in
            var rows: [StoredDomainRow] = []
            let sequence = try await connection.query(query, logger: logger)
            for try await (id, domain, keyHash, memo, created, updated) in sequence.decode((UUID, String, String, String, Int64, Int64).self) {
                rows.append(StoredDomainRow(
                    id: id.uuidString, domain: domain, keyHash: keyHash, memo: memo,
                    createdAtMicroseconds: created, updatedAtMicroseconds: updated))
            }
            return rows
        } }
        var result: [DomainRecord] = []
        for row in rows { result.append(try row.record()) }
        return result
    }

    /// Runs `body` on a pooled connection, unless the caller has given up by the time the pool
    /// hands one out. A write whose caller was told "unavailable" (``bounded(_:_:)`` timed out
    /// while the database was down) must not happen later behind its back, when the pool
    /// reconnects: a registration answered 503 would appear with a key nobody was shown.
    private static func withLiveConnection<Result: Sendable>(
        _ client: PostgresClient, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try Task.checkCancellation()
            return try await body(connection)
        }
    }

    /// Runs `body` against the pool, failing with `unavailable` after `timeout` (a
    /// pool waiting for a database that is down would otherwise hold the caller indefinitely).
    ///
    /// Surprising but necessary: a task group cannot enforce the timeout, because it waits for
    /// its children and a pool operation does not always honour cancellation (found as a test
    /// that hung while PostgreSQL was stopped). So the operation runs in a task of its own that
    /// is cancelled — not waited for — when the deadline passes first.
    private func bounded<Result: Sendable>(
        _ operation: String, timeout: Duration? = nil,
        _ body: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws(DomainStoreError) -> Result {
        let client = self.client
        let timeout = timeout ?? operationTimeout
        do {
            return try await FirstOutcome.race(
                body: { try await body(client) },
                deadline: timeout,
                timeoutError: DomainStoreError(.unavailable, "PostgreSQL \(operation) timed out after \(timeout)"))
        } catch {
            throw DomainStoreError.postgres(error, while: operation)
        }
    }
}
