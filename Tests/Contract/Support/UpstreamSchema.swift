import Foundation
public import HopGatePostgres

/// Upstream HopGate's (`dalbodeule/hop-gate`) PostgreSQL table exactly as its ent schema creates
/// it (`ent/migrate/schema.go`: `domains` with a unique `domain` and a unique `client_api_key`
/// of at most 64 characters, keys in plain text), for tests that share a database with it.
public enum UpstreamSchema {
    /// The DDL ent's auto-migration runs, one statement each.
    public static let statements = [
        """
        CREATE TABLE "domains" ("id" uuid NOT NULL, "domain" character varying NOT NULL, \
        "client_api_key" character varying(64) NOT NULL, "memo" character varying NOT NULL DEFAULT '', \
        "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL, \
        PRIMARY KEY ("id"))
        """,
        #"CREATE UNIQUE INDEX "domains_domain_key" ON "domains" ("domain")"#,
        #"CREATE UNIQUE INDEX "domain_client_api_key" ON "domains" ("client_api_key")"#,
    ]

    /// Creates upstream's table in the database at `dsn`.
    public static func create(on dsn: PostgresDSN) async throws {
        for statement in statements { try await TestPostgresDatabase.execute(statement, on: dsn) }
    }

    /// Inserts one row the way upstream's admin service does (`created_at` as given).
    public static func insert(
        domain: String, key: String, memo: String = "", createdAt: String = "2024-05-01 12:34:56.789+00", on dsn: PostgresDSN
    ) async throws {
        func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        try await TestPostgresDatabase.execute("""
            INSERT INTO domains (id, domain, client_api_key, memo, created_at, updated_at)
            VALUES (gen_random_uuid(), \(literal(domain)), \(literal(key)), \(literal(memo)),
                    \(literal(createdAt)), \(literal(createdAt))::timestamptz + interval '1 hour')
            """, on: dsn)
    }

    /// A text digest of upstream's table (its columns and every row), to prove it was not touched.
    public static let fingerprintQuery = """
        SELECT (SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
                FROM information_schema.columns WHERE table_name = 'domains' AND table_schema = 'public')
            || '|' || (SELECT COALESCE(string_agg(id::text || domain || client_api_key || memo || created_at::text || updated_at::text, ';'
                ORDER BY domain), '') FROM domains)
        """
}

