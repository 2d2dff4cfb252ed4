public import Foundation
public import HopGatePorts
public import Logging
import PostgresNIO

/// Reads upstream HopGate's (`dalbodeule/hop-gate`) `domains` table, the one its ent schema
/// creates: `id`, `domain`, `client_api_key` (plain text), `memo`, `created_at`, `updated_at`.
/// Read-only: it runs one `SELECT` and never writes to upstream's database.
///
/// Used by `hopgate-server import-upstream`; ``UpstreamDomainImport`` decides what to copy.
public struct PostgresUpstreamDomainReader: Sendable {
    /// Upstream's database.
    public let dsn: PostgresDSN
    /// The longest the whole read may take.
    public let timeout: Duration
    private let logger: Logger

    public init(dsn: PostgresDSN, timeout: Duration = .seconds(15), logger: Logger = Logger(label: "hopgate.upstream")) {
        self.dsn = dsn
        self.timeout = timeout
        self.logger = logger
    }

    /// Every row of upstream's `domains`, oldest first.
    /// - Throws: ``DomainStoreError/Code/invalidArgument`` when the database has no table of
    ///   upstream's shape (no `domains`, or one without `client_api_key`, such as an earlier
    ///   HopGate's own); ``DomainStoreError/Code/unavailable`` when it cannot be reached in time.
    public func rows() async throws(DomainStoreError) -> [UpstreamDomainRow] {
        let configuration: PostgresClient.Configuration
        do { configuration = try dsn.clientConfiguration(pool: .init(maximumConnections: 1)) } catch {
            throw DomainStoreError(.invalidArgument, "the upstream DSN \(error)")
        }
        // Errors only: the first query may be queued before `run()` has started, which
        // PostgresNIO reports as a warning although it then runs normally.
        let logger = { var quiet = self.logger; quiet.logLevel = .error; return quiet }()
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let redacted = dsn.redacted
        do {
            return try await FirstOutcome.race(
                body: {
                    try await withThrowingTaskGroup(of: [UpstreamDomainRow]?.self) { group in
                        group.addTask { await client.run(); return nil }
                        defer { group.cancelAll() }
                        return try await Self.read(client, logger: logger, redacted: redacted)
                    }
                },
                deadline: timeout,
                timeoutError: DomainStoreError(.unavailable, "reading upstream's domains at \(redacted) timed out after \(timeout)"))
        } catch {
            throw DomainStoreError.postgres(error, while: "read of upstream's domains at \(redacted)")
        }
    }

    private static func read(_ client: PostgresClient, logger: Logger, redacted: String) async throws -> [UpstreamDomainRow] {
        var columns: Set<String> = []
        for try await name in try await client.query("""
            SELECT attname::text FROM pg_attribute
            WHERE attrelid = to_regclass('domains') AND attnum > 0 AND NOT attisdropped
            """, logger: logger).decode(String.self) {
            columns.insert(name)
        }
        let expected: Set<String> = ["id", "domain", "client_api_key", "memo", "created_at", "updated_at"]
        guard expected.isSubset(of: columns) else {
            let what = columns.isEmpty ? "has no table named domains" : "has a domains table without upstream's columns (\(expected.subtracting(columns).sorted().joined(separator: ", ")) missing)"
            throw DomainStoreError(.invalidArgument, "the database at \(redacted) \(what): is it upstream HopGate's?")
        }
        var rows: [UpstreamDomainRow] = []
        let sequence = try await client.query("""
            SELECT domain::text, client_api_key::text, memo::text,
                   (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint,
                   (EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint
            FROM domains ORDER BY created_at, domain
            """, logger: logger)
        for try await (domain, key, memo, created, updated) in sequence.decode((String, String, String, Int64, Int64).self) {
            rows.append(UpstreamDomainRow(
                domain: domain, clientAPIKey: key, memo: memo,
                createdAt: Date(storageMicroseconds: created), updatedAt: Date(storageMicroseconds: updated)))
        }
        return rows
    }
}
