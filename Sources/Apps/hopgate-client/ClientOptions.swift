import ArgumentParser
import Foundation
import HopGateConfiguration
import HopGateDomain
import HopGatePorts

/// The client's flags. Each falls back to its `HOP_CLIENT_*` variable (environment, then `.env`).
struct ClientOptions: ParsableArguments {
    @Option(
        name: [.customLong("server"), .customLong("server-addr")],
        help: "Server address HOST:PORT (HOP_CLIENT_SERVER_ADDR); --server-addr is upstream HopGate's spelling.")
    var server: String?

    @Option(name: .long, help: "The domain this client serves (HOP_CLIENT_DOMAIN).")
    var domain: String?

    /// Taken whatever it looks like: one key in 64 begins with `-` (the key alphabet is
    /// `A-Z a-z 0-9 - _`), which would otherwise read as an option and leave `--api-key` empty.
    @Option(name: .long, parsing: .unconditional, help: "The domain's 64-character client API key (HOP_CLIENT_API_KEY).")
    var apiKey: String?

    @Option(name: .long, help: "Default local service HOST:PORT, e.g. 127.0.0.1:8080 (HOP_CLIENT_LOCAL_TARGET).")
    var localTarget: String?

    @Option(name: .long, help: "Named service NAME=/PREFIX=HOST:PORT[=strip]; repeatable (HOP_CLIENT_SERVICES, comma-separated).")
    var service: [String] = []

    @Option(name: .long, help: "PEM file of the CA that signed the server's certificate (HOP_CLIENT_CA_FILE); default: system roots.")
    var caFile: String?

    @Option(name: .long, help: "TLS server name to verify, when it differs from the server host (HOP_CLIENT_SERVER_NAME).")
    var serverName: String?

    @Flag(name: .long, help: "Connect without TLS (tests and loopback only) (HOP_CLIENT_PLAINTEXT).")
    var plaintext = false

    @Option(name: .long, help: "Tunnel connections to hold, 1-8 (HOP_CLIENT_TUNNELS, default 1); one per server core serves small requests with the least CPU (the server's tunnel policy must pool them).")
    var tunnels: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning (or warn), error, critical (HOP_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .long, help: "Log format: json or text (HOP_LOG_FORMAT).")
    var logFormat: String?

    @Option(name: .long, help: "Path of the .env file to read (default ./.env).")
    var envFile: String = ".env"
}

/// Everything the client needs, validated.
struct ClientConfiguration: Sendable {
    var serverHost: String
    var serverPort: Int
    var domain: DomainName
    var apiKey: ClientAPIKey
    var services: [LocalService]
    var caFile: String?
    var serverName: String?
    var plaintext: Bool
    var logLevel: String
    var logFormat: String
    /// How many tunnels (connections) the client holds at once, each with its own hello.
    var tunnels: Int

    /// The most tunnels one client may hold: the server's default pool per domain.
    static let maximumTunnels = 8

    /// Reads flags, then environment, then `.env`. - Throws: one ``SettingsError`` naming the setting.
    init(options: ClientOptions, settings: Settings) throws {
        let server = try options.server ?? settings.required("HOP_CLIENT_SERVER_ADDR", "the server as HOST:PORT, e.g. hopgate.example.com:443")
        let target: LocalTarget
        do { target = try LocalTarget(parsing: server) } catch {
            throw SettingsError(name: "HOP_CLIENT_SERVER_ADDR", message: "is '\(server)'; expected HOST:PORT, e.g. hopgate.example.com:443")
        }
        serverHost = target.host
        serverPort = target.port

        let rawDomain = try options.domain ?? settings.required("HOP_CLIENT_DOMAIN", "the registered domain this client serves")
        do { domain = try DomainName(parsing: rawDomain) } catch {
            throw SettingsError(name: "HOP_CLIENT_DOMAIN", message: "is invalid: \(error.message)")
        }

        let rawKey = try options.apiKey ?? settings.required("HOP_CLIENT_API_KEY", "the 64-character client API key issued at registration")
        do { apiKey = try ClientAPIKey(parsing: rawKey) } catch {
            throw SettingsError(name: "HOP_CLIENT_API_KEY", message: "is invalid: \(error.message)")
        }

        var services: [LocalService] = []
        if let rawTarget = options.localTarget ?? settings.string("HOP_CLIENT_LOCAL_TARGET") {
            do { services.append(LocalService(name: "default", prefix: .root, target: try LocalTarget(parsing: rawTarget))) } catch {
                throw SettingsError(name: "HOP_CLIENT_LOCAL_TARGET", message: "is '\(rawTarget)': \(error.reason)")
            }
        }
        let specs = options.service.isEmpty
            ? (settings.string("HOP_CLIENT_SERVICES")?.split(separator: ",").map { String($0).trimmingCharacters(in: " ") } ?? [])
            : options.service
        for spec in specs {
            do { services.append(try LocalService(parsing: spec)) } catch {
                throw SettingsError(name: "HOP_CLIENT_SERVICES", message: error.description)
            }
        }
        guard !services.isEmpty else {
            throw SettingsError(name: "HOP_CLIENT_LOCAL_TARGET", message: "is not set; expected the local service as HOST:PORT, e.g. 127.0.0.1:8080 (or give --service)")
        }
        self.services = services

        caFile = options.caFile ?? settings.string("HOP_CLIENT_CA_FILE")
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw SettingsError(name: "HOP_CLIENT_CA_FILE", message: "is '\(caFile)', which is not a readable file; expected the PEM certificate of the CA that signed the server's certificate")
        }
        serverName = options.serverName ?? settings.string("HOP_CLIENT_SERVER_NAME")
        plaintext = try options.plaintext || (settings.boolean("HOP_CLIENT_PLAINTEXT") ?? false)
        if !plaintext && serverName == nil && IPAddressLiteral.isIPAddress(serverHost) {
            throw SettingsError(
                name: "HOP_CLIENT_SERVER_NAME",
                message: "is not set and the server is given as the address \(serverHost); expected the name on the server's certificate, e.g. hopgate.example.com")
        }
        if let raw = options.logLevel {
            logLevel = try LogLevelSetting.parse(raw, name: "--log-level")
        } else {
            logLevel = try LogLevelSetting.parse(settings.string("HOP_LOG_LEVEL") ?? "info")
        }
        logFormat = options.logFormat ?? settings.string("HOP_LOG_FORMAT") ?? "text"
        if let count = options.tunnels {
            guard (1...Self.maximumTunnels).contains(count) else {
                throw SettingsError(name: "--tunnels", message: "is \(count); expected a number of tunnel connections from 1 to \(Self.maximumTunnels)")
            }
            tunnels = count
        } else {
            tunnels = try settings.integer("HOP_CLIENT_TUNNELS", in: 1...Self.maximumTunnels) ?? 1
        }
    }
}

extension ClientConfiguration {
    /// The name sent as SNI and checked against the server's certificate.
    var tlsServerName: String { serverName ?? serverHost }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let start = firstIndex(where: { !characters.contains($0) }),
              let end = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[start...end])
    }
}
