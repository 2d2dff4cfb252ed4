import Foundation
public import HopGatePostgres
public import Logging
import PostgresNIO

/// A database of its own for one test, in the throw-away cluster `scripts/test` starts.
public struct TestPostgresDatabase: Sendable {
    /// The DSN of the new database.
    public let dsn: PostgresDSN
    let name: String
    let admin: PostgresDSN
    /// The database's DSN as text, password included (to hand to a server process).
    public let url: String

    /// The cluster's superuser DSN, or an error explaining how to get one.
    public static func clusterDSN() throws -> PostgresDSN {
        guard let value = ProcessInfo.processInfo.environment["HOP_TEST_POSTGRES_DSN"], !value.isEmpty else {
            throw TestEnvironmentError(
                "HOP_TEST_POSTGRES_DSN is not set: run the tests with ./scripts/test, which starts a throw-away PostgreSQL")
        }
        return try PostgresDSN(parsing: value)
    }

    /// Creates an empty database with a random name.
    public static func create() async throws -> TestPostgresDatabase {
        let admin = try clusterDSN()
        let name = "hopgate_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try await execute("CREATE DATABASE \(name)", on: admin)
        let dsn = admin.withDatabase(name)
        var components = URLComponents(string: ProcessInfo.processInfo.environment["HOP_TEST_POSTGRES_DSN"] ?? "")
        components?.path = "/\(name)"
        return TestPostgresDatabase(dsn: dsn, name: name, admin: admin, url: components?.string ?? "")
    }

    /// Runs `body` with a new empty database, and drops it afterwards, whether `body` throws or not.
    public static func with<Result>(_ body: (TestPostgresDatabase) async throws -> Result) async throws -> Result {
        let database = try await create()
        do {
            let result = try await body(database)
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }

    /// Drops the database, closing any connection still open to it.
    public func drop() async throws {
        try await Self.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: admin)
    }

    /// Runs one statement on a short-lived connection to `dsn`.
    public static func execute(_ sql: String, on dsn: PostgresDSN) async throws {
        let client = PostgresClient(configuration: try dsn.clientConfiguration())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }
}

/// The test environment lacks something a test needs; the message says what and how to fix it.
public struct TestEnvironmentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension TestPostgresDatabase {
    /// The single integer `sql` returns, read on a short-lived connection to `dsn`.
    public static func scalar(_ sql: String, on dsn: PostgresDSN) async throws -> Int64? {
        try await single(sql, as: Int64.self, on: dsn)
    }

    /// The single text value `sql` returns (nil for no row or NULL).
    public static func text(_ sql: String, on dsn: PostgresDSN) async throws -> String? {
        try await single(sql, as: String?.self, on: dsn) ?? nil
    }

    /// The value in the last row `sql` returns, decoded as `type`, read on a short-lived connection to `dsn`.
    static func single<Value: PostgresDecodable & Sendable>(_ sql: String, as type: Value.Type, on dsn: PostgresDSN) async throws -> Value? {
        let client = PostgresClient(configuration: try dsn.clientConfiguration())
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            var value: Value?
            for try await decoded in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Value.self) {
                value = decoded
            }
            return value
        }
    }
}

/// A logger that shows only warnings and errors: PostgresNIO logs every failed connection
/// attempt at info, which buries test output while a test takes the server away on purpose.
public func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
