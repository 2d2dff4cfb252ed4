import Foundation
import HopGateConfiguration
import HopGateDomain
import HopGateGRPCTransport

/// Everything the server needs, validated; built from flags, then `HOP_*` variables, then `.env`.
struct ServerConfiguration: Sendable {
    /// Production (PostgreSQL, ACME, ports 80/443) or development (SQLite, self-signed, loopback ports).
    enum Mode: String, Sendable { case production, development }

    /// Where the domain store lives.
    enum StoreLocation: Sendable, Equatable {
        case postgres(dsn: String)
        case sqlite(path: String)
    }

    /// Where TLS certificates come from.
    enum Certificates: Sendable, Equatable {
        /// A local CA under the data directory (development, private networks).
        case selfSigned
        /// An ACME CA (Let's Encrypt by default).
        case acme(ACMESettings)
    }

    /// The ACME settings (`HOP_ACME_*`).
    struct ACMESettings: Sendable, Equatable {
        var directoryURL: String
        var email: String?
        /// Challenge types, most preferred first (`http-01`, `tls-alpn-01`).
        var challenges: [String]
        /// PEM file of CAs to trust for the ACME server's own HTTPS (a private CA such as Pebble).
        var caFile: String?
    }

    static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

    var mode: Mode
    var certificates: Certificates
    var domain: DomainName
    var httpListen: ListenAddress
    var httpsListen: ListenAddress
    /// The plain-HTTP listener redirects to HTTPS (default) or proxies (behind a TLS-terminating balancer).
    var httpRedirectsToHTTPS: Bool
    /// The HTTPS port public clients use, for redirects (default: the HTTPS listener's port).
    var publicHTTPSPort: Int?
    var adminListen: ListenAddress?
    var metricsListen: ListenAddress?
    var tunnelListen: ListenAddress?
    var adminKey: String
    var store: StoreLocation
    /// PostgreSQL pool: connections open at most at once, and how long one may sit idle before it closes.
    var databaseMaximumConnections: Int
    var databaseIdleTimeout: Duration
    var dataDirectory: String
    var proxyTimeout: Duration
    /// How long in-flight requests may take to finish after SIGTERM.
    var shutdownGrace: Duration
    /// Failed admin- or client-key authentications per address within a minute before it is turned away (0: never).
    var authMaximumFailures: Int
    /// How long such an address is turned away.
    var authLockout: Duration
    /// An HTTP/1.1 connection without a complete request head this long is closed.
    var requestHeadTimeout: Duration
    /// HTTP/1.1 request-head limits (414/431).
    var maximumTargetBytes: Int
    var maximumHeaderCount: Int
    var maximumHeaderBytes: Int
    /// HTTP/2 streams one public connection may have open at once.
    var maximumHTTP2Streams: Int
    /// The HTTP/2 flow-control window granted to each public request body.
    var http2WindowBytes: Int
    /// Open HTTPS connections allowed per client address (0: no limit).
    var maximumConnectionsPerAddress: Int
    var maximumBodyBytes: Int
    /// `Strict-Transport-Security` on registered domains' HTTPS responses (`HOP_HSTS`); nil: none.
    var strictTransportSecurity: String?
    /// HTTP/2 streams one tunnel connection may have open at once (more: GOAWAY).
    var maximumTunnelStreams: Int
    var tunnelPolicy: TunnelAdmissionPolicy
    var logLevel: String
    var logFormat: String

    init(mode: Mode, settings: Settings, overrides: [String: String] = [:]) throws {
        func value(_ name: String) -> String? { overrides[name] ?? settings.string(name) }
        func listen(_ name: String, default fallback: String?) throws -> ListenAddress? {
            guard let raw = value(name) ?? fallback else { return nil }
            do { return try ListenAddress(parsing: raw) } catch { throw SettingsError(name: name, message: "is '\(raw)'; \(error.reason)") }
        }
        let development = mode == .development
        self.mode = mode

        let rawDomain = value("HOP_SERVER_DOMAIN") ?? (development ? "hopgate.localhost" : nil)
        guard let rawDomain else {
            throw SettingsError(name: "HOP_SERVER_DOMAIN", message: "is not set; expected the server's own domain, e.g. hopgate.example.com")
        }
        do { domain = try DomainName(parsing: rawDomain) } catch {
            throw SettingsError(name: "HOP_SERVER_DOMAIN", message: "is invalid: \(error.message)")
        }

        httpListen = try listen("HOP_SERVER_HTTP_LISTEN", default: development ? "127.0.0.1:8080" : ":80")!
        httpsListen = try listen("HOP_SERVER_HTTPS_LISTEN", default: development ? "127.0.0.1:8443" : ":443")!
        switch value("HOP_SERVER_HTTP_MODE") ?? "redirect" {
        case "redirect": httpRedirectsToHTTPS = true
        case "proxy": httpRedirectsToHTTPS = false
        case let other: throw SettingsError(name: "HOP_SERVER_HTTP_MODE", message: "is '\(other)'; expected redirect or proxy")
        }
        publicHTTPSPort = try settings.integer("HOP_SERVER_PUBLIC_HTTPS_PORT", in: 1...65_535)
        adminListen = try listen("HOP_ADMIN_LISTEN", default: "127.0.0.1:9090")
        metricsListen = try listen("HOP_METRICS_LISTEN", default: "127.0.0.1:9100")
        // Unset: the tunnel shares the HTTPS port (ALPN grpc-exp); set: a plaintext gRPC port of its own.
        tunnelListen = try listen("HOP_TUNNEL_LISTEN", default: nil)

        dataDirectory = value("HOP_DATA_DIR") ?? (development ? "./.hopgate" : "/var/lib/hopgate")

        if let key = value("HOP_ADMIN_API_KEY") {
            do { _ = try AdminCredential(configuredKey: key, mode: development ? .development : .production) } catch {
                throw SettingsError(name: "HOP_ADMIN_API_KEY", message: "is refused: \(error.description)")
            }
            adminKey = key
        } else if development {
            adminKey = ""  // generated by the dev command and printed once
        } else {
            throw SettingsError(name: "HOP_ADMIN_API_KEY", message: "is not set; expected a random key of at least 32 characters (e.g. openssl rand -hex 32)")
        }

        let dsn = value("HOP_DB_DSN") ?? (development ? "sqlite:\(dataDirectory)/hopgate.sqlite" : nil)
        guard let dsn else {
            throw SettingsError(name: "HOP_DB_DSN", message: "is not set; expected postgres://USER:PASSWORD@HOST:5432/DB or sqlite:/path/to/file")
        }
        store = try Self.storeLocation(dsn: dsn)

        databaseMaximumConnections = try settings.integer("HOP_DB_MAX_CONNECTIONS", in: 1...1_000) ?? 10
        databaseIdleTimeout = try settings.duration("HOP_DB_CONN_IDLE_TIMEOUT") ?? .seconds(60)
        guard databaseIdleTimeout > .zero else {
            throw SettingsError(name: "HOP_DB_CONN_IDLE_TIMEOUT", message: "is 0; expected a duration above 0 such as 60s or 30m")
        }

        switch value("HOP_CERTIFICATES") ?? (development ? "self-signed" : "acme") {
        case "self-signed":
            certificates = .selfSigned
        case "acme":
            let staging = try settings.boolean("HOP_ACME_USE_STAGING") ?? false
            let directory = value("HOP_ACME_DIRECTORY_URL") ?? (staging ? Self.letsEncryptStaging : Self.letsEncrypt)
            guard let url = URLComponents(string: directory), url.scheme == "https", url.host?.isEmpty == false else {
                throw SettingsError(name: "HOP_ACME_DIRECTORY_URL", message: "is '\(directory)'; expected the https:// URL of an ACME directory")
            }
            let email = value("HOP_ACME_EMAIL")
            if let email, !email.contains("@") || email.contains(" ") || email.hasPrefix("mailto:") {
                throw SettingsError(name: "HOP_ACME_EMAIL", message: "is '\(email)'; expected an e-mail address such as admin@example.com")
            }
            let challenges = (value("HOP_ACME_CHALLENGE") ?? "http-01,tls-alpn-01")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !challenges.isEmpty, challenges.allSatisfy({ ["http-01", "tls-alpn-01"].contains($0) }) else {
                throw SettingsError(name: "HOP_ACME_CHALLENGE", message: "is '\(challenges.joined(separator: ","))'; expected http-01, tls-alpn-01 or both, comma-separated, preferred first")
            }
            let caFile = value("HOP_ACME_CA_FILE")
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw SettingsError(name: "HOP_ACME_CA_FILE", message: "is '\(caFile)', which cannot be read; expected a PEM file of CA certificates")
            }
            certificates = .acme(ACMESettings(directoryURL: directory, email: email, challenges: challenges, caFile: caFile))
        case let other:
            throw SettingsError(name: "HOP_CERTIFICATES", message: "is '\(other)'; expected acme or self-signed")
        }

        proxyTimeout = try settings.duration("HOP_PROXY_TIMEOUT") ?? .seconds(60)
        shutdownGrace = try settings.duration("HOP_SHUTDOWN_GRACE") ?? .seconds(30)
        authMaximumFailures = try settings.integer("HOP_AUTH_MAX_FAILURES", in: 0...1_000_000) ?? 10
        authLockout = try settings.duration("HOP_AUTH_LOCKOUT") ?? .seconds(60)
        requestHeadTimeout = try settings.duration("HOP_SERVER_REQUEST_HEAD_TIMEOUT") ?? .seconds(30)
        // NIO's parser refuses any head over 80 KiB, so larger limits would never apply.
        maximumTargetBytes = try settings.integer("HOP_SERVER_MAX_TARGET_BYTES", in: 256...65_536) ?? 8 * 1024
        maximumHeaderCount = try settings.integer("HOP_SERVER_MAX_HEADER_COUNT", in: 8...1_000) ?? 100
        maximumHeaderBytes = try settings.integer("HOP_SERVER_MAX_HEADER_BYTES", in: 1_024...81_920) ?? 64 * 1024
        maximumHTTP2Streams = try settings.integer("HOP_SERVER_H2_MAX_STREAMS", in: 1...10_000) ?? 100
        http2WindowBytes = try settings.integer("HOP_SERVER_H2_WINDOW_BYTES", in: 65_535...16 << 20) ?? 65_535
        maximumConnectionsPerAddress = try settings.integer("HOP_SERVER_MAX_CONNECTIONS_PER_IP", in: 0...1_000_000) ?? 1_000
        maximumBodyBytes = try settings.integer("HOP_PROXY_MAX_BODY_BYTES", in: 0...Int.max) ?? 0
        strictTransportSecurity = try Self.strictTransportSecurity(value("HOP_HSTS"), development: development)
        // At least the client's idle exchange streams (16) and its control stream, with room to serve.
        maximumTunnelStreams = try settings.integer("HOP_TUNNEL_MAX_STREAMS", in: 32...100_000) ?? GRPCTunnelListener.defaultMaximumStreams
        switch value("HOP_TUNNEL_POLICY") ?? "pool" {
        case "pool": tunnelPolicy = .pool(maximum: try settings.integer("HOP_TUNNEL_MAX_PER_DOMAIN", in: 1...1024) ?? 8)
        case "replace": tunnelPolicy = .replace
        case let other: throw SettingsError(name: "HOP_TUNNEL_POLICY", message: "is '\(other)'; expected pool or replace")
        }

        logLevel = try LogLevelSetting.parse(value("HOP_LOG_LEVEL") ?? "info")
        logFormat = value("HOP_LOG_FORMAT") ?? (development ? "text" : "json")
        guard ["json", "text"].contains(logFormat) else {
            throw SettingsError(name: "HOP_LOG_FORMAT", message: "is '\(logFormat)'; expected json or text")
        }
    }
}

/// `HOST:PORT` to listen on; `:PORT` means every interface.
struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    struct ParseError: Error { let reason: String }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing raw: String) throws(ParseError) {
        guard let colon = raw.lastIndex(of: ":") else { throw ParseError(reason: "expected HOST:PORT or :PORT") }
        var host = String(raw[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(raw[raw.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ParseError(reason: "the port must be a number from 0 to 65535")
        }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}

extension ServerConfiguration {
    /// The store `HOP_DB_DSN` names: `postgres://…` (or `postgresql://…`) or `sqlite:/path`.
    static func storeLocation(dsn: String) throws(SettingsError) -> StoreLocation {
        if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
            return .postgres(dsn: dsn)
        } else if dsn.hasPrefix("sqlite:") {
            let path = String(dsn.dropFirst("sqlite:".count)).replacingPrefix("//", with: "")
            guard !path.isEmpty else { throw SettingsError(name: "HOP_DB_DSN", message: "names no SQLite file; expected sqlite:/path/to/file") }
            return .sqlite(path: path)
        }
        throw SettingsError(name: "HOP_DB_DSN", message: "has an unknown scheme; expected postgres://… or sqlite:…")
    }
}
