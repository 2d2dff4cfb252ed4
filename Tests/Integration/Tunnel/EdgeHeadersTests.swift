import Foundation
import HopGateTestSupport
import Testing

/// What the edge adds that nginx users expect: `X-Real-IP` towards the local service, and
/// `Strict-Transport-Security` (`HOP_HSTS`) on HTTPS responses for registered domains only.
@Suite("Edge headers end to end")
struct EdgeHeadersTests {
    typealias Gateway = GatewayProcesses

    @Test("X-Real-IP reaches the local service, over HTTP/1.1 and HTTP/2")
    func realIP() async throws {
        try await Gateway.withTunnel(domain: "app.example.com") { server, _, _ in
            for version in Gateway.HTTPVersion.allCases {
                let reply = try await Gateway.curl(server, "app.example.com", version, ["URL/headers"])
                #expect(reply.contains(#""X-Real-IP": "127.0.0.1""#), "\(version): \(reply)")
            }
        }
    }

    @Test("HSTS on tunnelled responses and registered domains' pages, not on unknown hosts")
    func strictTransportSecurity() async throws {
        try await Gateway.withTunnel(domain: "app.example.com", settings: ["HOP_HSTS": "max-age=60; includeSubDomains"]) { server, _, _ in
            _ = try await Gateway.register("idle.example.com", on: server)
            for version in Gateway.HTTPVersion.allCases {
                let reply = try await Gateway.curl(server, "app.example.com", version, ["-D", "-", "URL/headers"])
                #expect(reply.lowercased().contains("strict-transport-security: max-age=60; includesubdomains\r\n"), "\(version): \(reply)")

                // A registered domain without a tunnel: the edge's own 502 page carries it too ...
                let idle = try await Gateway.curl(server, "app.example.com", version, ["-D", "-", "-H", "Host: idle.example.com", "URL/"])
                #expect(idle.contains(" 502"), "\(version): \(idle)")
                #expect(idle.lowercased().contains("strict-transport-security: max-age=60"), "\(version): \(idle)")

                // ... a host nobody registered does not get it.
                let unknown = try await Gateway.curl(server, "app.example.com", version, ["-D", "-", "-H", "Host: nobody.example.com", "URL/"])
                #expect(unknown.contains(" 404"), "\(version): \(unknown)")
                #expect(!unknown.lowercased().contains("strict-transport-security"), "\(version): \(unknown)")
            }
        }
    }

    @Test("development mode sends no HSTS unless HOP_HSTS asks for it")
    func noStrictTransportSecurityInDevelopment() async throws {
        try await Gateway.withTunnel(domain: "app.example.com") { server, _, _ in
            let reply = try await Gateway.curl(server, "app.example.com", .http1, ["-D", "-", "URL/headers"])
            #expect(reply.contains(" 200"), "\(reply)")
            #expect(!reply.lowercased().contains("strict-transport-security"), "\(reply)")
        }
    }
}
