import Foundation
import HopGateTestSupport
import Testing

/// Starts real `hopgate-server` and `hopgate-client` processes for the end-to-end suites and
/// talks to them with curl, over HTTPS with the server's self-signed development CA.
enum GatewayProcesses {
    static let adminKey = "e2e-admin-key-0123456789abcdef0123456789"

    /// The running server's addresses, read from its log.
    struct Server {
        let process: ChildProcess
        /// `http://127.0.0.1:N`, the plain-HTTP edge.
        let http: String
        /// The HTTPS port, shared by web traffic and the tunnel (ALPN `grpc-exp`).
        let httpsPort: Int
        /// `http://127.0.0.1:N`, the admin API.
        let admin: String
        /// The development CA that signs the server's certificates.
        let caFile: String
        /// `http://127.0.0.1:N`, the operations listener (`/metrics`, `/healthz`, `/readyz`).
        let operations: String
    }

    /// Runs `hopgate-server dev` with its data in `dataDirectory`; port 0 picks a free port.
    /// `extraArguments` go to `hopgate-server dev` (e.g. `--tunnel-listen`); `httpsHost` is the
    /// address the HTTPS edge listens on (`[::1]` for IPv6).
    static func withServer<R>(
        dataDirectory: String, httpsHost: String = "127.0.0.1", httpsPort: Int = 0, httpPort: Int = 0, extraArguments: [String] = [],
        settings: [String: String] = [:],
        _ body: (Server) async throws -> R
    ) async throws -> R {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_ADMIN_API_KEY"] = adminKey
        environment["HOP_DATA_DIR"] = dataDirectory
        environment["HOP_LOG_FORMAT"] = "text"
        environment["HOP_TUNNEL_LISTEN"] = nil
        environment["HOP_METRICS_LISTEN"] = "127.0.0.1:0"
        environment.merge(settings) { $1 }
        return try await withChildProcess(binary("hopgate-server"), [
            "dev", "--env-file", "/nonexistent", "--admin-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:\(httpPort)",
            "--https-listen", "\(httpsHost):\(httpsPort)",
        ] + extraArguments, environment: environment) { process in
            _ = try await process.waitForOutput(containing: "admin API listening")
            _ = try await process.waitForOutput(containing: "tunnel endpoint")
            _ = try await process.waitForOutput(containing: "public HTTP listening on")
            _ = try await process.waitForOutput(containing: "public HTTPS listening on")
            _ = try await process.waitForOutput(containing: "metrics and health listening on")
            let log = process.output
            let http = try #require(log.firstMatch(of: /public HTTP listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            let https = try #require(log.firstMatch(of: /public HTTPS listening on https:\/\/(?:127\.0\.0\.1|\[::1\]):(\d+)/)?.1).description
            let admin = try #require(log.firstMatch(of: /admin API listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            let operations = try #require(log.firstMatch(of: /metrics and health listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            return try await body(Server(
                process: process, http: http, httpsPort: Int(https)!, admin: admin, caFile: dataDirectory + "/ca/ca.pem",
                operations: operations))
        }
    }

    /// Registers `domain` through the admin CLI and returns its client API key.
    static func register(_ domain: String, on server: Server) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_ADMIN_API_KEY"] = adminKey
        environment["HOP_ADMIN_URL"] = server.admin
        let output = try await runCommand(
            [binary("hopgate-server"), "domains", "register", domain, "--env-file", "/nonexistent"], environment: environment)
        return try #require(output.firstMatch(of: /shown once\): ([A-Za-z0-9_-]{64})/)?.1).description
    }

    /// Runs `hopgate-client` against the server's HTTPS port, trusting its development CA.
    static func withClient<R>(
        domain: String, key: String, server: Server, backend: Int?, extraArguments: [String] = [],
        _ body: (ChildProcess) async throws -> R
    ) async throws -> R {
        try await withClient(domain: domain, key: key, httpsPort: server.httpsPort, caFile: server.caFile, backend: backend, extraArguments: extraArguments, body)
    }

    /// Runs `hopgate-client` against `127.0.0.1:httpsPort` (the server may not be running yet).
    /// Without a `backend` the client has only the services `extraArguments` give it (`--service`).
    static func withClient<R>(
        domain: String, key: String, httpsPort: Int, caFile: String, backend: Int?, extraArguments: [String] = [],
        _ body: (ChildProcess) async throws -> R
    ) async throws -> R {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_CLIENT_API_KEY"] = key
        return try await withChildProcess(binary("hopgate-client"), [
            "--server", "127.0.0.1:\(httpsPort)", "--server-name", "hopgate.localhost", "--ca-file", caFile,
            "--domain", domain, "--env-file", "/nonexistent", "--log-format", "text",
        ] + (backend.map { ["--local-target", "127.0.0.1:\($0)"] } ?? []) + extraArguments, environment: environment, body)
    }

    /// The port of a server started with `--tunnel-listen` (its plaintext tunnel port), from its log.
    static func plaintextTunnelPort(of server: Server) throws -> Int {
        let announced = server.process.output.firstMatch(of: /tunnel endpoint \(gRPC, plaintext\) listening on 127\.0\.0\.1:(\d+)/)?.1
        return try #require(announced.flatMap { Int($0) })
    }

    /// Runs `hopgate-client` against a plaintext tunnel port (`--plaintext`).
    static func withPlaintextClient<R>(
        domain: String, key: String, tunnelPort: Int, backend: Int, _ body: (ChildProcess) async throws -> R
    ) async throws -> R {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_CLIENT_API_KEY"] = key
        return try await withChildProcess(binary("hopgate-client"), [
            "--server", "127.0.0.1:\(tunnelPort)", "--plaintext", "--domain", domain,
            "--local-target", "127.0.0.1:\(backend)", "--env-file", "/nonexistent", "--log-format", "text",
        ], environment: environment, body)
    }

    /// Which HTTP version curl speaks to the public edge.
    enum HTTPVersion: String, CaseIterable, Sendable {
        case http1 = "--http1.1"
        case http2 = "--http2"
    }

    /// curl against `https://host:port/…` (resolved to 127.0.0.1, trusting the dev CA); `URL` in an
    /// argument is replaced by `https://host:port`.
    static func curl(_ server: Server, _ host: String, _ version: HTTPVersion = .http1, _ arguments: [String]) async throws -> String {
        let base = "https://\(host):\(server.httpsPort)"
        return try await runCommand(
            ["curl", "-sS", "--max-time", "120", version.rawValue, "--cacert", server.caFile,
             "--resolve", "\(host):\(server.httpsPort):127.0.0.1"]
                + arguments.map { $0.replacingOccurrences(of: "URL", with: base) })
    }

    /// A server in a temporary directory, the test backend, and a client for `domain` whose
    /// tunnel is up.
    static func withTunnel(
        domain: String, settings: [String: String] = [:],
        _ body: (Server, _ backend: Int, _ client: ChildProcess) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await withServer(dataDirectory: directory, settings: settings) { server in
                    let key = try await register(domain, on: server)
                    try await withClient(domain: domain, key: key, server: server, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for \(domain)")
                        try await body(server, backend, client)
                    }
                }
            }
        }
    }
}
