import Foundation
import HopGateTestSupport
import Testing

/// `hopgate-server` with `HOP_CERTIFICATES=acme` against a real Pebble: certificates for newly
/// registered domains, both challenge types on the server's own listeners, renewal of
/// short-lived certificates while a connection stays open, and restarts without new orders.
@Suite("hopgate-server with ACME (Pebble)")
struct ACMEServerTests {
    typealias Gateway = GatewayProcesses

    static let serverDomain = "gateway.example.com"

    static func settings(_ pebble: TestPebble, challenge: String) -> [String: String] {
        [
            "HOP_CERTIFICATES": "acme", "HOP_ACME_DIRECTORY_URL": pebble.directoryURL, "HOP_ACME_CA_FILE": pebble.apiCAFile,
            "HOP_ACME_CHALLENGE": challenge, "HOP_ACME_EMAIL": "ops@example.com", "HOP_SERVER_DOMAIN": serverDomain,
        ]
    }

    @Test("HTTP-01: a freshly registered domain is served a Pebble certificate within seconds; a restart reuses it without ordering")
    func http01() async throws {
        try await withTemporaryDirectory { data in
            let httpPort = try freeLoopbackPort(), httpsPort = try freeLoopbackPort()
            try await withTestPebble(httpPort: httpPort, tlsPort: httpsPort) { pebble in
                let settings = Self.settings(pebble, challenge: "http-01")
                try await Gateway.withServer(dataDirectory: data, httpsPort: httpsPort, httpPort: httpPort, settings: settings) { server in
                    // The server's own domain is ordered at start-up.
                    _ = try await Self.waitForCertificate(Self.serverDomain, port: httpsPort, root: pebble.issuerRootFile)
                    // An unregistered name is refused at the handshake, before any order.
                    await #expect(throws: (any Error).self) {
                        try await Self.request("app.example.com", port: httpsPort, root: pebble.issuerRootFile)
                    }
                    _ = try await Gateway.register("app.example.com", on: server)
                    let registered = ContinuousClock.now
                    let status = try await Self.waitForCertificate("app.example.com", port: httpsPort, root: pebble.issuerRootFile)
                    let elapsed = ContinuousClock.now - registered
                    print("ACME HTTP-01: certificate served \(elapsed) after registration")
                    #expect(elapsed < .seconds(20))
                    #expect(status == "502", "no tunnel yet: the registered domain answers 502")
                    let metrics = try await runCommand(["curl", "-sS", server.operations + "/metrics"])
                    #expect(metrics.contains(#"hopgate_certificate_orders_total{outcome="issued"} 2"#), "\(metrics)")
                    #expect(metrics.contains(#"hopgate_certificate_name_expiry_timestamp_seconds{domain="app.example.com"}"#))
                    #expect(server.process.output.contains("certificate issued"))
                }
                let directoryURL = URL(string: pebble.directoryURL)
                let folder = data + "/acme/\(directoryURL?.host ?? "")_\(directoryURL?.port ?? 0)"
                let modes = try await runCommand(["stat", "-c", "%a %n", folder, folder + "/account-key.pem", folder + "/certificates/app.example.com.key.pem"])
                #expect(modes.split(separator: "\n").map { $0.prefix(3) } == ["700", "600", "600"], "\(modes)")

                try await Gateway.withServer(dataDirectory: data, httpsPort: httpsPort, httpPort: httpPort, settings: settings) { server in
                    let status = try await Self.waitForCertificate("app.example.com", port: httpsPort, root: pebble.issuerRootFile)
                    #expect(status == "502")
                    #expect(server.process.output.contains("reusing the saved certificate"))
                    #expect(!server.process.output.contains("certificate issued"), "\(server.process.output)")
                }
            }
        }
    }

    @Test("TLS-ALPN-01 on the HTTPS port; a short-lived certificate is renewed and swapped in while an open connection keeps working")
    func tlsALPNAndRenewal() async throws {
        let checker = fixtureScript("keepalive_check.py")
        try await withTemporaryDirectory { data in
            let httpsPort = try freeLoopbackPort()
            // 20 s certificates: renewal is due 13 s after issuance.
            try await withTestPebble(httpPort: try freeLoopbackPort(), tlsPort: httpsPort, certificateValidity: 20) { pebble in
                try await Gateway.withServer(dataDirectory: data, httpsPort: httpsPort, settings: Self.settings(pebble, challenge: "tls-alpn-01")) { server in
                    _ = try await Gateway.register("app.example.com", on: server)
                    _ = try await Self.waitForCertificate("app.example.com", port: httpsPort, root: pebble.issuerRootFile)
                    let first = try await Self.fingerprint("app.example.com", port: httpsPort)
                    #expect(server.process.output.contains("answering an ACME TLS-ALPN-01 validation"))

                    async let held = runCommand(["python3", checker, "app.example.com", "\(httpsPort)", pebble.issuerRootFile, "18"])
                    var renewed = first
                    let deadline = ContinuousClock.now + .seconds(40)
                    while renewed == first && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .seconds(1))
                        renewed = try await Self.fingerprint("app.example.com", port: httpsPort)
                    }
                    #expect(renewed != first, "the certificate was not renewed")
                    // New handshakes get the renewed certificate, and it verifies.
                    #expect(try await Self.request("app.example.com", port: httpsPort, root: pebble.issuerRootFile) == "502")

                    let report = try JSONSerialization.jsonObject(with: Data(try await held.utf8)) as? [String: Any]
                    #expect(report?["connections"] as? Int == 1, "\(String(describing: report))")
                    #expect(report?["statuses"] as? [Int] == [502])
                    #expect((report?["answered"] as? Int ?? 0) >= 20)
                    let metrics = try await runCommand(["curl", "-sS", server.operations + "/metrics"])
                    #expect(metrics.contains(#"hopgate_certificate_orders_total{outcome="renewed"}"#), "\(metrics)")
                }
            }
        }
    }

    /// GET `https://host:port/` trusting only Pebble's root; returns the HTTP status.
    static func request(_ host: String, port: Int, root: String) async throws -> String {
        try await runCommand([
            "curl", "-sS", "--max-time", "10", "--cacert", root, "--resolve", "\(host):\(port):127.0.0.1",
            "-o", "/dev/null", "-w", "%{http_code}", "https://\(host):\(port)/",
        ])
    }

    /// Polls until `host` presents a certificate that verifies against Pebble's root (30 s at most).
    static func waitForCertificate(_ host: String, port: Int, root: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do { return try await request(host, port: port, root: root) } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The SHA-256 fingerprint of the certificate a new handshake for `host` gets.
    static func fingerprint(_ host: String, port: Int) async throws -> String {
        try await runCommand(["sh", "-c",
            "openssl s_client -connect 127.0.0.1:\(port) -servername \(host) </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"])
    }
}
