/// The PostgreSQL schema, one numbered step at a time. A released step is never edited: append a
/// new one. Applied steps are recorded in `schema_migrations`.
enum PostgresMigrations {
    struct Step {
        let version: Int
        let statements: [String]
    }

    /// A constant key for `pg_advisory_xact_lock`, so that servers starting together take turns
    /// (the ASCII of "hopgate" read as a number).
    static let advisoryLockKey: Int64 = 0x686F_7067_6174_65

    static let steps: [Step] = [
        Step(version: 1, statements: [
            """
            CREATE TABLE domains (
                id         uuid        PRIMARY KEY,
                domain     text        NOT NULL,
                key_hash   text        NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
                memo       text        NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT domains_domain_key UNIQUE (domain)
            )
            """,
        ]),
    ]
}
