import ArgumentParser
import Foundation
import HopGateAdminAPI

/// `domains register NAME [--memo TEXT]`: prints the new client API key (shown once).
struct RegisterDomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register", abstract: "Register a domain and print its client API key.")
    @Argument(help: "The domain, e.g. app.example.com.") var domain: String
    @Option(name: .long, help: "A note for administrators.") var memo: String?
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            let key = try await connection.client().register(domain: domain, memo: memo)
            print("registered \(domain)")
            print("client API key (shown once): \(key)")
        }
    }
}

/// `domains list`: every registered domain, following the pages.
struct ListDomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered domains.")
    @Option(name: .long, help: "Page size used to fetch (1-500).") var pageSize: Int = 100
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            let client = try connection.client()
            var after: String?
            var count = 0
            repeat {
                let page = try await client.list(after: after, limit: pageSize)
                for domain in page.domains {
                    print("\(domain.domain)\t\(domain.createdAt.rfc3339)\t\(domain.updatedAt.rfc3339)\t\(domain.memo)")
                }
                count += page.domains.count
                after = page.nextAfter
            } while after != nil
            print("\(count) domain\(count == 1 ? "" : "s")")
        }
    }
}

/// `domains status NAME`.
struct DomainStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a domain's memo, timestamps and the routes its tunnels serve now.")
    @Argument(help: "The domain.") var domain: String
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            guard let status = try await connection.client().status(domain: domain) else {
                throw AdminCommandFailure("\(domain) is not registered")
            }
            print("domain:     \(status.domain)")
            print("memo:       \(status.memo)")
            print("created_at: \(status.createdAt.rfc3339)")
            print("updated_at: \(status.updatedAt.rfc3339)")
            // One line per route: the prefix and how many tunnels take its requests.
            print("routes:     \(status.routes.isEmpty ? "none (no tunnel connected)" : status.routes.map { "\($0.prefix) (\($0.tunnels) tunnel\($0.tunnels == 1 ? "" : "s"))" }.joined(separator: ", "))")
        }
    }
}

/// `domains exists NAME`: prints yes or no; exit status 0 either way.
struct DomainExistsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exists", abstract: "Print whether a domain is registered.")
    @Argument(help: "The domain.") var domain: String
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            print(try await connection.client().exists(domain: domain) ? "yes" : "no")
        }
    }
}

/// `domains rotate-key NAME`: prints the new key; the old one stops working at once.
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate-key", abstract: "Issue a new client API key for a domain.")
    @Argument(help: "The domain.") var domain: String
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            let key = try await connection.client().rotateKey(domain: domain)
            print("rotated the key of \(domain); the old key no longer works")
            print("client API key (shown once): \(key)")
        }
    }
}

/// `domains unregister NAME` with the key from `--key-file` or `HOP_CLIENT_API_KEY` (never a flag
/// value, which other users could read in the process list).
struct UnregisterDomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unregister", abstract: "Unregister a domain (needs its client API key).")
    @Argument(help: "The domain.") var domain: String
    @Option(name: .long, help: "File holding the domain's client API key (default: HOP_CLIENT_API_KEY).") var keyFile: String?
    @OptionGroup var connection: AdminConnectionOptions

    func run() async throws {
        try await runAdminCall {
            let key: String
            if let keyFile {
                guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                    throw AdminCommandFailure("cannot read the key file \(keyFile)")
                }
                key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let fromEnvironment = ProcessInfo.processInfo.environment["HOP_CLIENT_API_KEY"], !fromEnvironment.isEmpty {
                key = fromEnvironment
            } else {
                throw AdminCommandFailure("the client API key is needed: pass --key-file FILE or set HOP_CLIENT_API_KEY")
            }
            try await connection.client().unregister(domain: domain, clientAPIKey: key)
            print("unregistered \(domain)")
        }
    }
}
