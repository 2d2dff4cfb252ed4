import HopGatePorts
import HopGatePostgres
import HopGateSQLite
import Logging

/// Opens (and migrates) the domain store a configuration names for the length of `body`, then
/// closes it: the one recipe for the server and for `import-upstream`.
enum DomainStoreScope {
    /// The store could not be opened or prepared; `message` names the setting or the store.
    struct OpeningError: Error {
        let message: String
    }

    /// - Parameters:
    ///   - storeLogger: the store adapter's own logger.
    ///   - logger: says "domain store ready" (info) once the store is open and migrated.
    static func with<Result: Sendable>(
        _ location: ServerConfiguration.StoreLocation, pool: PostgresPoolSettings = .init(),
        storeLogger: Logger, logger: Logger, _ body: (any DomainStore) async throws -> Result
    ) async throws -> Result {
        switch location {
        case .sqlite(let path):
            let store: SQLiteDomainStore
            do { store = try await SQLiteDomainStore.open(path: path, logger: storeLogger) } catch {
                throw OpeningError(message: "cannot open the SQLite store: \(error.message)")
            }
            logger.info("domain store ready", metadata: ["store": "sqlite", "path": "\(path)"])
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        case .postgres(let raw):
            let store: PostgresDomainStore
            do { store = try PostgresDomainStore(dsn: try PostgresDSN(parsing: raw), pool: pool, logger: storeLogger) } catch {
                throw OpeningError(message: "HOP_DB_DSN: \(error)")
            }
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await store.run(); return nil }
                defer { group.cancelAll() }
                do { try await store.migrate() } catch {
                    throw OpeningError(message: "cannot prepare the PostgreSQL store at \(store.dsn.redacted): \(error)")
                }
                logger.info("domain store ready", metadata: ["store": "postgres", "dsn": "\(store.dsn.redacted)"])
                return try await body(store)
            }
        }
    }
}
