import Foundation
import HopGateTestSupport
import Testing

/// One address holding connections at the public HTTPS port (`HOP_SERVER_MAX_CONNECTIONS_PER_IP`).
@Suite("Connections per address")
struct ConnectionLimitTests {
    typealias Gateway = GatewayProcesses

    @Test("connections over the per-address limit (HTTPS and plain HTTP together) are closed at once; a released slot is usable again; the tunnel counts and keeps serving")
    func perAddressLimit() async throws {
        let script = fixtureScript("hold_connections.py")
        let domain = "limits.example.com"
        try await Gateway.withTunnel(domain: domain, settings: ["HOP_SERVER_MAX_CONNECTIONS_PER_IP": "4"]) { server, _, _ in
            let httpPort = try #require(Int(server.http.split(separator: ":").last ?? ""))
            let output = try await runCommand([
                "python3", script, "\(server.httpsPort)", "\(httpPort)", domain, server.caFile, "tls,plain,tls,tls,plain,plain",
            ])
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            // The tunnel client holds one of the four from 127.0.0.1; both ports share the rest.
            #expect(result["served"] as? [Bool] == [true, true, true, false, false, false], "\(result)")
            #expect(result["after_release"] as? Bool == true, "\(result)")
            _ = try await server.process.waitForOutput(containing: "connection refused: too many open connections from one address")
            #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
        }
    }
}
