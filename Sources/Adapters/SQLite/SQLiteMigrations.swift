/// The SQLite schema, one numbered step at a time. A step is never edited once released: change
/// the schema by appending a step. Applied steps are recorded in `schema_migrations`.
enum SQLiteMigrations {
    struct Step {
        let version: Int
        let statements: [String]
    }

    static let steps: [Step] = [
        Step(version: 1, statements: [
            """
            CREATE TABLE domains (
                id            TEXT    PRIMARY KEY,
                domain        TEXT    NOT NULL UNIQUE,
                key_hash      TEXT    NOT NULL,
                memo          TEXT    NOT NULL DEFAULT '',
                created_at_us INTEGER NOT NULL,
                updated_at_us INTEGER NOT NULL
            ) STRICT
            """,
        ]),
    ]
}
