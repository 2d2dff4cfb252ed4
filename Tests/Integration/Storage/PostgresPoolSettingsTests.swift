import HopGatePostgres
import PostgresNIO
import Testing

/// The pool settings the server reads reach PostgresNIO's client (no server needed).
@Suite("PostgreSQL pool settings")
struct PostgresPoolSettingsTests {
    @Test("HOP_DB_MAX_CONNECTIONS and HOP_DB_CONN_IDLE_TIMEOUT reach the PostgresNIO pool")
    func poolSettings() throws {
        let dsn = try PostgresDSN(parsing: "postgres://hopgate@127.0.0.1:5432/hopgate")
        let configured = try dsn.clientConfiguration(pool: PostgresPoolSettings(maximumConnections: 3, idleTimeout: .seconds(5)))
        #expect(configured.options.maximumConnections == 3)
        #expect(configured.options.connectionIdleTimeout == .seconds(5))
        let defaults = try dsn.clientConfiguration()
        #expect(defaults.options.maximumConnections == 10)
        #expect(defaults.options.connectionIdleTimeout == .seconds(60))
    }
}
