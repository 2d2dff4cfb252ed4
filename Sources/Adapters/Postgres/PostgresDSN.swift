import Foundation
public import PostgresNIO
import NIOSSL

/// A `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…&sslrootcert=…` address, parsed into
/// a client configuration.
///
/// `sslmode` follows libpq: `disable`, `prefer` (the default: TLS when the server offers it,
/// without verifying), `require` (TLS, unverified), `verify-full` (TLS, verified against
/// `sslrootcert` or the system roots, with the host name checked). The password never appears in
/// ``redacted`` or in an error message.
public struct PostgresDSN: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public private(set) var database: String?
    public let sslMode: String
    public let rootCertificatePath: String?

    /// The address with the password replaced by `***`, for logs.
    public var redacted: String {
        let user = password == nil ? username : "\(username):***"
        return "postgres://\(user)@\(host):\(port)/\(database ?? "")?sslmode=\(sslMode)"
    }

    public var description: String { redacted }

    /// Parses `dsn`; the error names the part that is wrong and never contains the password.
    public init(parsing dsn: String) throws(PostgresDSNError) {
        guard let components = URLComponents(string: dsn),
              let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else { throw PostgresDSNError("is not a postgres:// URL") }
        guard let host = components.host, !host.isEmpty else { throw PostgresDSNError("names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresDSNError("names no user") }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? nil : path
        var sslMode = "prefer"
        var rootCertificate: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                let mode = item.value ?? ""
                guard ["disable", "prefer", "require", "verify-full"].contains(mode) else {
                    throw PostgresDSNError("has sslmode=\(mode); expected disable, prefer, require or verify-full")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificate = item.value
            default:
                throw PostgresDSNError("has an unknown parameter \(item.name); expected sslmode or sslrootcert")
            }
        }
        self.sslMode = sslMode
        self.rootCertificatePath = rootCertificate
    }

    /// The same address naming another database.
    public func withDatabase(_ name: String) -> PostgresDSN {
        var copy = self
        copy.database = name
        return copy
    }

    /// The PostgresNIO client configuration for this address, with `pool`'s size and idle timeout.
    public func clientConfiguration(pool: PostgresPoolSettings = .init()) throws(PostgresDSNError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "verify-full":
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificatePath {
                configuration.trustRoots = .file(rootCertificatePath)
            }
            tls = .require(configuration)
        default:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = sslMode == "require" ? .require(configuration) : .prefer(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = pool.maximumConnections
        configuration.options.connectionIdleTimeout = pool.idleTimeout
        return configuration
    }
}

/// A malformed `HOP_DB_DSN`; the message says which part is wrong.
public struct PostgresDSNError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "the PostgreSQL DSN \(message)" }
}
