import ArgumentParser
import Foundation
import HopGateConfiguration
import HopGatePorts
import HopGatePostgres
import HopGateSQLite
import Logging

/// `hopgate-server import-upstream --from <DSN>`: copies upstream HopGate's domains (its
/// PostgreSQL `domains` table) into HopGate's store, so that clients keep their keys.
///
/// The store is the one `HOP_DB_DSN` (or `--db-dsn`) names; it may be the same database as
/// upstream's, since HopGate's tables are its own. Upstream's database is only read. The rule is
/// ``UpstreamDomainImport``: idempotent, one line per row, never a key.
struct ImportUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-upstream",
        abstract: "Copy upstream HopGate's domains and client keys into HopGate's store (idempotent).",
        discussion: """
            Reads upstream's PostgreSQL table `domains` (read-only) and writes to the store HOP_DB_DSN names. \
            Keys are stored hashed; a domain HopGate already has is skipped, so running it again copies nothing.
            """
    )

    @Option(name: .long, help: "Upstream HopGate's database: postgres://USER:PASSWORD@HOST:5432/DB?sslmode=…")
    var from: String

    @Option(name: .long, help: "HopGate's store: postgres://… or sqlite:/path (overrides HOP_DB_DSN).")
    var dbDSN: String?

    @Flag(name: .long, help: "Use the development default store (HOP_DATA_DIR/hopgate.sqlite) when HOP_DB_DSN is not set.")
    var dev = false

    @Option(name: .long, help: "Path of the .env file to read.")
    var envFile: String = ".env"

    func run() async throws {
        do {
            let upstream: PostgresDSN
            do { upstream = try PostgresDSN(parsing: from) } catch { throw ImportFailure("--from \(error)") }
            let location = try target()
            let rows = try await PostgresUpstreamDomainReader(dsn: upstream, logger: Self.quietLogger).rows()
            print("read \(rows.count) domain\(rows.count == 1 ? "" : "s") from upstream HopGate at \(upstream.redacted)")
            let report = try await Self.withStore(location) { store in try await UpstreamDomainImport(store: store).run(rows) }
            for line in report.lines { print(line) }
        } catch let failure as ImportFailure {
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            throw ExitCode.failure
        } catch let error as DomainStoreError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Where HopGate's domains live.
    private func target() throws -> ServerConfiguration.StoreLocation {
        do {
            let settings = try UpstreamSettings.migrate(try Settings(dotEnvPath: envFile), for: .server).settings
            let dataDirectory = settings.string("HOP_DATA_DIR") ?? "./.hopgate"
            guard let dsn = dbDSN ?? settings.string("HOP_DB_DSN") ?? (dev ? "sqlite:\(dataDirectory)/hopgate.sqlite" : nil) else {
                throw ImportFailure("HOP_DB_DSN is not set; expected postgres://USER:PASSWORD@HOST:5432/DB or sqlite:/path/to/file (or pass --db-dsn)")
            }
            return try ServerConfiguration.storeLocation(dsn: dsn)
        } catch let error as SettingsError {
            throw ImportFailure("configuration error: \(error)")
        }
    }

    /// Opens (and migrates) the store at `location` for `body`, then closes it.
    private static func withStore<Result: Sendable>(
        _ location: ServerConfiguration.StoreLocation, _ body: @Sendable (any DomainStore) async throws -> Result
    ) async throws -> Result {
        do {
            return try await DomainStoreScope.with(location, storeLogger: quietLogger, logger: quietLogger, body)
        } catch let error as DomainStoreScope.OpeningError {
            throw ImportFailure(error.message)
        }
    }

    /// Warnings and errors only: the report is the output.
    private static var quietLogger: Logger {
        var logger = Logger(label: "import-upstream")
        logger.logLevel = .warning
        return logger
    }
}

/// A reason `import-upstream` stops, as one line.
struct ImportFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
