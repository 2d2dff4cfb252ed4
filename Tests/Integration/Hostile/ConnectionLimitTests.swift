import Foundation
import HopGateTestSupport
import Testing

/// One address holding connections at the public HTTPS port (`HOP_SERVER_MAX_CONNECTIONS_PER_IP`).
@Suite("Connections per address")
struct ConnectionLimitTests {
    typealias Gateway = GatewayProcesses

    @Test("connections over the per-address limit are closed before TLS; a released slot is usable again; the tunnel counts and keeps serving")
    func perAddressLimit() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hold_connections.py").path
        let domain = "limits.example.com"
        try await Gateway.withTunnel(domain: domain, settings: ["HOP_SERVER_MAX_CONNECTIONS_PER_IP": "4"]) { server, _, _ in
            let output = try await runCommand(["python3", script, "\(server.httpsPort)", domain, server.caFile, "6"])
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            // The tunnel client holds one of the four from 127.0.0.1.
            #expect(result["held"] as? Int == 3, "\(result)")
            #expect(result["after_release"] as? Bool == true, "\(result)")
            _ = try await server.process.waitForOutput(containing: "connection refused: too many open connections from one address")
            #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
        }
    }
}
