/// The PostgreSQL schema, one numbered step at a time. A released step is never edited: append a
/// new one. Applied steps are recorded in `hopgate_schema_migrations`.
///
/// Every name HopGate creates starts with `hopgate_` (tables, constraints, their indexes), so
/// HopGate can share a database with upstream HopGate, whose ent schema owns a table named
/// `domains` (and an index named `domains_domain_key`). Nothing here reads or writes a table
/// HopGate did not create, except ``adoptLegacyLayout``, which renames only tables with
/// HopGate's own earlier shape.
enum PostgresMigrations {
    struct Step {
        let version: Int
        let statements: [String]
    }

    /// A constant key for `pg_advisory_xact_lock`, so that servers starting together take turns
    /// (the ASCII of "hopgate" read as a number).
    static let advisoryLockKey: Int64 = 0x686F_7067_6174_65

    /// The table that records applied steps.
    static let ledger = "hopgate_schema_migrations"

    static let createLedger =
        "CREATE TABLE IF NOT EXISTS \(ledger) (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"

    /// Moves an installation of an earlier HopGate, which kept its rows in `domains` and its
    /// ledger in `schema_migrations`, to the `hopgate_` names: a rename, so every row, id and
    /// timestamp stays as it was, and the ledger's history (step 1 applied) carries over.
    ///
    /// It acts only when all of these hold, so it never touches upstream HopGate's `domains`
    /// (which has `client_api_key` and no `key_hash`) nor another tool's `schema_migrations`:
    /// `hopgate_schema_migrations` does not exist yet; `schema_migrations` has exactly HopGate's
    /// columns (`version`, `applied_at`); `domains` has HopGate's `key_hash` column.
    static let adoptLegacyLayout = """
        DO $$
        BEGIN
            IF to_regclass('hopgate_schema_migrations') IS NULL
               AND to_regclass('hopgate_domains') IS NULL
               AND (SELECT array_agg(attname::text ORDER BY attname::text) FROM pg_attribute
                    WHERE attrelid = to_regclass('schema_migrations') AND attnum > 0 AND NOT attisdropped)
                   = ARRAY['applied_at', 'version']
               AND EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = to_regclass('domains') AND attname = 'key_hash' AND NOT attisdropped)
               AND NOT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = to_regclass('domains') AND attname = 'client_api_key' AND NOT attisdropped)
            THEN
                ALTER TABLE schema_migrations RENAME TO hopgate_schema_migrations;
                ALTER TABLE hopgate_schema_migrations RENAME CONSTRAINT schema_migrations_pkey TO hopgate_schema_migrations_pkey;
                ALTER TABLE domains RENAME TO hopgate_domains;
                ALTER TABLE hopgate_domains RENAME CONSTRAINT domains_pkey TO hopgate_domains_pkey;
                ALTER TABLE hopgate_domains RENAME CONSTRAINT domains_domain_key TO hopgate_domains_domain_key;
                ALTER TABLE hopgate_domains RENAME CONSTRAINT domains_key_hash_check TO hopgate_domains_key_hash_check;
            END IF;
        END
        $$
        """

    static let steps: [Step] = [
        // Step 1 once created `domains` (ledger `schema_migrations`); ``adoptLegacyLayout`` moves
        // such installations to the names below with step 1 recorded, so it does not run again.
        Step(version: 1, statements: [
            """
            CREATE TABLE hopgate_domains (
                id         uuid        CONSTRAINT hopgate_domains_pkey PRIMARY KEY,
                domain     text        NOT NULL,
                key_hash   text        NOT NULL CONSTRAINT hopgate_domains_key_hash_check CHECK (key_hash ~ '^[0-9a-f]{64}$'),
                memo       text        NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                CONSTRAINT hopgate_domains_domain_key UNIQUE (domain)
            )
            """,
        ]),
    ]
}
