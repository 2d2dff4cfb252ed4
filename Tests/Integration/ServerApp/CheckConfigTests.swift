import Foundation
import HopGateTestSupport
import Testing

/// `hopgate-server check-config` against a valid production configuration and against each of
/// a series of broken settings: every one stops it with a line naming the setting.
@Suite("hopgate-server check-config")
struct CheckConfigTests {
    static let valid: [String: String] = [
        "HOP_SERVER_DOMAIN": "hopgate.example.com",
        "HOP_ADMIN_API_KEY": "check-config-admin-key-0123456789abcdef",
        "HOP_DB_DSN": "postgres://hopgate:secret-password@127.0.0.1:5432/hopgate",
    ]

    func checkConfig(_ overrides: [String: String]) async -> (ok: Bool, output: String) {
        var environment = Self.valid.merging(overrides) { $1 }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        do {
            return (true, try await runCommand([binary("hopgate-server"), "check-config", "--env-file", "/nonexistent"], environment: environment))
        } catch {
            return (false, "\(error)")
        }
    }

    @Test("a valid production configuration is printed with its secrets masked")
    func valid() async throws {
        let (ok, output) = await checkConfig([:])
        #expect(ok, "\(output)")
        #expect(output.contains("configuration OK"))
        #expect(output.contains("hopgate.example.com"))
        #expect(output.contains("acme https://acme-v02.api.letsencrypt.org/directory"), "production defaults to Let's Encrypt")
        #expect(output.contains("HOP_HSTS") && output.contains("max-age=31536000"), "production sends HSTS by default")
        #expect(!output.contains("check-config-admin-key-0123456789abcdef"))
        #expect(!output.contains("secret-password"))
    }

    @Test("each broken setting stops it with a line naming that setting", arguments: [
        ("HOP_SERVER_DOMAIN", "not a domain"),
        ("HOP_ADMIN_API_KEY", "short"),
        ("HOP_DB_DSN", "mysql://db/hopgate"),
        ("HOP_SERVER_HTTP_LISTEN", "0.0.0.0:99999"),
        ("HOP_SERVER_HTTPS_LISTEN", "no-port"),
        ("HOP_ADMIN_LISTEN", "127.0.0.1:http"),
        ("HOP_METRICS_LISTEN", ":-1"),
        ("HOP_PROXY_TIMEOUT", "soon"),
        ("HOP_PROXY_MAX_BODY_BYTES", "-5"),
        ("HOP_TUNNEL_POLICY", "random"),
        ("HOP_TUNNEL_MAX_PER_DOMAIN", "0"),
        ("HOP_TUNNEL_MAX_STREAMS", "16"),
        ("HOP_LOG_LEVEL", "loud"),
        ("HOP_LOG_FORMAT", "xml"),
        ("HOP_SERVER_HTTP_MODE", "tunnel"),
        ("HOP_SHUTDOWN_GRACE", "forever"),
        ("HOP_SERVER_REQUEST_HEAD_TIMEOUT", "1 fortnight"),
        ("HOP_CERTIFICATES", "letsencrypt"),
        ("HOP_ACME_DIRECTORY_URL", "http://acme.example.com/directory"),
        ("HOP_ACME_EMAIL", "mailto:ops@example.com"),
        ("HOP_ACME_CHALLENGE", "dns-01"),
        ("HOP_ACME_CA_FILE", "/nonexistent/ca.pem"),
        ("HOP_ACME_USE_STAGING", "maybe"),
        ("HOP_SERVER_MAX_TARGET_BYTES", "100"),
        ("HOP_SERVER_MAX_HEADER_COUNT", "many"),
        ("HOP_SERVER_MAX_HEADER_BYTES", "1000000"),
        ("HOP_SERVER_H2_MAX_STREAMS", "0"),
        ("HOP_SERVER_H2_WINDOW_BYTES", "1024"),
        ("HOP_AUTH_MAX_FAILURES", "-1"),
        ("HOP_SERVER_MAX_CONNECTIONS_PER_IP", "lots"),
        ("HOP_AUTH_LOCKOUT", "a while"),
        ("HOP_DB_MAX_CONNECTIONS", "0"),
        ("HOP_DB_CONN_IDLE_TIMEOUT", "0s"),
        ("HOP_HSTS", "forever"),
        // Upstream HopGate's settings that are carried over name themselves when malformed.
        ("HOP_SERVER_PROXY_TIMEOUT_SECONDS", "soon"),
        ("HOP_DB_MAX_OPEN_CONNS", "many"),
        ("HOP_DB_CONN_MAX_LIFETIME", "forever"),
        ("HOP_ACME_CA_DIR", "http://acme.example.com/directory"),
    ])
    func broken(_ name: String, _ value: String) async throws {
        let (ok, output) = await checkConfig([name: value])
        #expect(!ok)
        #expect(output.contains("configuration error: \(name)"), "\(output)")
        #expect(!output.contains("check-config-admin-key-0123456789abcdef"))
    }

    @Test("the repository's .env.example is valid once the admin key is filled in")
    func example() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            "HOP_ADMIN_API_KEY": "example-admin-key-0123456789abcdef0123",
        ]
        let output = try await runCommand(
            [binary("hopgate-server"), "check-config", "--env-file", root.appendingPathComponent(".env.example").path], environment: environment)
        #expect(output.contains("configuration OK") && output.contains("hopgate.example.com"), "\(output)")
    }

    @Test("missing required settings are named")
    func missing() async throws {
        for name in ["HOP_SERVER_DOMAIN", "HOP_ADMIN_API_KEY", "HOP_DB_DSN"] {
            var environment = Self.valid
            environment[name] = nil
            environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
            let failure = await #expect(throws: ChildProcessError.self) {
                try await runCommand([binary("hopgate-server"), "check-config", "--env-file", "/nonexistent"], environment: environment)
            }
            #expect(failure?.description.contains("configuration error: \(name) is not set") == true, "\(String(describing: failure))")
        }
    }
}
