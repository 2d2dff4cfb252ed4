import Foundation
import HopGateTestSupport
import Testing

/// The public edge listening on `[::1]`: a client's IPv6 address reaches the local service
/// without its port, and the admin-key lockout counts one IPv6 address across all its ports.
@Suite("IPv6 peers (server process)")
struct IPv6PeerTests {
    typealias Gateway = GatewayProcesses

    /// curl over IPv6 to `https://host:port/…` on the edge at `[::1]`.
    func curl6(_ server: Gateway.Server, _ host: String, _ arguments: [String]) async throws -> String {
        try await runCommand(
            ["curl", "-sS", "-6", "--max-time", "30", "--cacert", server.caFile,
             "--resolve", "\(host):\(server.httpsPort):[::1]"]
                + arguments.map { $0.replacingOccurrences(of: "URL", with: "https://\(host):\(server.httpsPort)") })
    }

    @Test("X-Forwarded-For and X-Real-IP carry ::1, and wrong admin keys from ::1 lock it out")
    func ipv6Peer() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                let settings = ["HOP_AUTH_MAX_FAILURES": "3", "HOP_AUTH_LOCKOUT": "30s"]
                try await Gateway.withServer(
                    dataDirectory: directory, httpsHost: "[::1]", extraArguments: ["--tunnel-listen", "127.0.0.1:0"], settings: settings
                ) { server in
                    let key = try await Gateway.register("app.example.com", on: server)
                    let tunnelPort = try Gateway.plaintextTunnelPort(of: server)
                    try await Gateway.withPlaintextClient(domain: "app.example.com", key: key, tunnelPort: tunnelPort, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for app.example.com")
                        let headers = try await curl6(server, "app.example.com", ["URL/headers"])
                        #expect(headers.contains(#""X-Forwarded-For": "::1""#), "\(headers)")
                        #expect(headers.contains(#""X-Real-IP": "::1""#), "\(headers)")
                    }

                    // The admin API on the server's own domain, through the edge: each curl comes
                    // from a new source port, and the lockout still counts them as one address.
                    let wrong = String(repeating: "w", count: 40)
                    func status(_ key: String) async throws -> Int {
                        let output = try await curl6(server, "hopgate.localhost", [
                            "-o", "/dev/null", "-w", "status=%{http_code}", "-H", "Authorization: Bearer \(key)", "URL/api/v1/admin/domains",
                        ])
                        return Int(try #require(output.firstMatch(of: /status=(\d+)/)?.1)) ?? 0
                    }
                    for _ in 0..<3 { #expect(try await status(wrong) == 401) }
                    #expect(try await status(Gateway.adminKey) == 429, "the fourth attempt from ::1 is turned away")
                    #expect(server.process.output.contains("address=::1") || server.process.output.contains("::1"))
                }
            }
        }
    }
}
