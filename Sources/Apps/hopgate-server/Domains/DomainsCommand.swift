import ArgumentParser
import Foundation
import HopGateAdminAPI
import HopGateConfiguration

/// `hopgate-server domains …`: the admin command line, over the admin API's generated client.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains",
        abstract: "Register, list, inspect, rotate and unregister domains through the admin API.",
        discussion: """
            Reads HOP_ADMIN_URL (default: http:// + HOP_ADMIN_LISTEN, else http://127.0.0.1:9090) and \
            HOP_ADMIN_API_KEY from the environment or .env.
            """,
        subcommands: [
            RegisterDomainCommand.self, ListDomainsCommand.self, DomainStatusCommand.self,
            DomainExistsCommand.self, RotateKeyCommand.self, UnregisterDomainCommand.self,
        ]
    )
}

/// Where and how the admin command line reaches the server.
struct AdminConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Admin API base URL (overrides HOP_ADMIN_URL).")
    var url: String?

    @Option(name: .long, help: "Path of the .env file to read.")
    var envFile: String = ".env"

    /// A client for the configured server, or an exit with one line naming the missing setting.
    func client() throws -> AdminAPIClient {
        let settings: Settings
        do { settings = try Settings(dotEnvPath: envFile) } catch { throw AdminCommandFailure("configuration error: \(error)") }
        let base = url ?? settings.string("HOP_ADMIN_URL")
            ?? settings.string("HOP_ADMIN_LISTEN").map { listen in "http://\(listen.hasPrefix(":") ? "127.0.0.1" + listen : listen)" }
            ?? "http://127.0.0.1:9090"
        guard let serverURL = URL(string: base), serverURL.scheme == "http" || serverURL.scheme == "https" else {
            throw AdminCommandFailure("configuration error: HOP_ADMIN_URL is '\(base)'; expected http(s)://HOST:PORT")
        }
        guard let key = settings.string("HOP_ADMIN_API_KEY"), !key.isEmpty else {
            throw AdminCommandFailure("configuration error: HOP_ADMIN_API_KEY is not set")
        }
        return AdminAPIClient(serverURL: serverURL, adminKey: key)
    }
}

/// Runs one admin call, turning an API error into one line on stderr and exit status 1.
func runAdminCall(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as AdminCommandFailure {
        FileHandle.standardError.write(Data("\(failure.message)\n".utf8))
        throw ExitCode.failure
    } catch let error as AdminAPIClientError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch {
        FileHandle.standardError.write(Data("error: cannot reach the admin API: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// A failure of the command line itself (not of the API), shown as it is.
struct AdminCommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Date {
    /// RFC 3339 in UTC, the form the API uses.
    var rfc3339: String { formatted(.iso8601) }
}
