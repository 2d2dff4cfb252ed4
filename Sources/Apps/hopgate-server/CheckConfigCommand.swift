import ArgumentParser
import Foundation
import HopGateConfiguration
import HopGateDomain

/// `hopgate-server check-config`: validates the settings and prints the effective
/// configuration with secrets masked; exits 1 with one line naming the first bad setting.
/// Before it, one `warning:` line for each upstream HopGate setting (with its replacement) and
/// each unknown `HOP_*` name.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the settings and print the effective configuration (secrets masked)."
    )

    @Flag(name: .long, help: "Check the development defaults instead of production.")
    var dev = false

    @Option(name: .long, help: "Path of the .env file to read.")
    var envFile: String = ".env"

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            let migrated = try UpstreamSettings.migrate(try Settings(dotEnvPath: envFile), for: .server)
            // Upstream HopGate's settings with their replacements, and unknown names, even when
            // something else is wrong: they often explain it.
            for notice in migrated.notices { print("warning: \(notice)") }
            configuration = try ServerConfiguration(mode: dev ? .development : .production, settings: migrated.settings)
        } catch {
            print("configuration error: \(error)")
            throw ExitCode.failure
        }
        let summary = configuration.summary
        let width = summary.map(\.0.count).max() ?? 0
        for (name, value) in summary {
            print("\(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(value)")
        }
        print("configuration OK")
    }
}

extension ServerConfiguration {
    /// The effective settings as `(name, value)` pairs, secrets masked.
    var summary: [(String, String)] {
        let storeText: String
        switch store {
        case .postgres(let dsn): storeText = Self.maskPassword(inDSN: dsn)
        case .sqlite(let path): storeText = "sqlite:\(path)"
        }
        let policyText: String
        switch tunnelPolicy {
        case .pool(let maximum): policyText = "pool (max \(maximum) per domain)"
        case .replace: policyText = "replace"
        }
        let certificateText: String
        switch certificates {
        case .selfSigned: certificateText = "self-signed (local CA under HOP_DATA_DIR/ca)"
        case .acme(let acme):
            certificateText = "acme \(acme.directoryURL), challenges \(acme.challenges.joined(separator: ",")), contact \(acme.email ?? "(none)")"
                + (acme.caFile.map { ", trusting \($0)" } ?? "")
        }
        return [
            ("mode", mode.rawValue),
            ("HOP_CERTIFICATES", certificateText),
            ("HOP_SERVER_DOMAIN", domain.value),
            ("HOP_SERVER_HTTP_LISTEN", httpListen.description),
            ("HOP_SERVER_HTTPS_LISTEN", httpsListen.description),
            ("HOP_TUNNEL_LISTEN", tunnelListen?.description ?? "(shared with HTTPS)"),
            ("HOP_ADMIN_LISTEN", adminListen?.description ?? "(off: no admin API, also not under https://\(domain)/api/v1/admin)"),
            ("HOP_METRICS_LISTEN", metricsListen?.description ?? "(off)"),
            ("HOP_ADMIN_API_KEY", adminKey.isEmpty ? "(generated at start)" : "\(adminKey.prefix(4))… (\(adminKey.count) characters)"),
            ("HOP_DB_DSN", storeText),
            ("HOP_DB_MAX_CONNECTIONS", "\(databaseMaximumConnections) (PostgreSQL only)"),
            ("HOP_DB_CONN_IDLE_TIMEOUT", "\(databaseIdleTimeout) (PostgreSQL only)"),
            ("HOP_DATA_DIR", dataDirectory),
            ("HOP_PROXY_TIMEOUT", "\(proxyTimeout)"),
            ("HOP_SHUTDOWN_GRACE", "\(shutdownGrace)"),
            ("HOP_AUTH_MAX_FAILURES", authMaximumFailures == 0 ? "0 (no throttling)" : "\(authMaximumFailures) per minute"),
            ("HOP_AUTH_LOCKOUT", "\(authLockout)"),
            ("HOP_SERVER_REQUEST_HEAD_TIMEOUT", "\(requestHeadTimeout)"),
            ("HOP_SERVER_MAX_TARGET_BYTES", "\(maximumTargetBytes)"),
            ("HOP_SERVER_MAX_HEADER_COUNT", "\(maximumHeaderCount)"),
            ("HOP_SERVER_MAX_HEADER_BYTES", "\(maximumHeaderBytes)"),
            ("HOP_SERVER_H2_MAX_STREAMS", "\(maximumHTTP2Streams)"),
            ("HOP_SERVER_H2_WINDOW_BYTES", "\(http2WindowBytes)"),
            ("HOP_SERVER_MAX_CONNECTIONS_PER_IP", maximumConnectionsPerAddress == 0 ? "0 (no limit)" : "\(maximumConnectionsPerAddress)"),
            ("HOP_PROXY_MAX_BODY_BYTES", maximumBodyBytes == 0 ? "unlimited" : "\(maximumBodyBytes)"),
            ("HOP_HSTS", strictTransportSecurity ?? "off"),
            ("HOP_TUNNEL_POLICY", policyText),
            ("HOP_TUNNEL_MAX_STREAMS", "\(maximumTunnelStreams)"),
            ("HOP_LOG_LEVEL", logLevel),
            ("HOP_LOG_FORMAT", logFormat),
        ]
    }

    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
    static func maskPassword(inDSN dsn: String) -> String {
        guard let scheme = dsn.range(of: "://"), let at = dsn.range(of: "@", range: scheme.upperBound..<dsn.endIndex) else { return dsn }
        let credentials = dsn[scheme.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return dsn }
        return String(dsn[..<colon]) + ":***" + String(dsn[at.lowerBound...])
    }
}
