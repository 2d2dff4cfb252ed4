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

    /// curl of the admin API's domain list with `key` and a forged `X-Forwarded-For`; `base` is
    /// `URL` (the edge over IPv6) or the admin listener's `http://127.0.0.1:N`.
    func listDomains(_ server: Gateway.Server, base: String, key: String, forgedFor: String) async throws -> (status: Int, body: String) {
        let arguments = [
            "-w", "\nstatus=%{http_code}", "-H", "Authorization: Bearer \(key)", "-H", "X-Forwarded-For: \(forgedFor)",
            "\(base)/api/v1/admin/domains",
        ]
        let output = base == "URL"
            ? try await curl6(server, "hopgate.localhost", arguments)
            : try await runCommand(["curl", "-sS", "--max-time", "30"] + arguments)
        return (Int(try #require(output.firstMatch(of: /status=(\d+)/)?.1)) ?? 0, output)
    }

    @Test("the admin API on the edge runs in process: the lockout counts the socket's ::1, never a forged X-Forwarded-For")
    func adminInProcess() async throws {
        try await withTemporaryDirectory { directory in
            let settings = ["HOP_AUTH_MAX_FAILURES": "3", "HOP_AUTH_LOCKOUT": "30s"]
            try await Gateway.withServer(dataDirectory: directory, httpsHost: "[::1]", settings: settings) { server in
                let wrong = String(repeating: "w", count: 40)
                // Through the edge from ::1, each attempt claiming another address.
                for index in 1...3 {
                    #expect(try await listDomains(server, base: "URL", key: wrong, forgedFor: "203.0.113.\(index)").status == 401)
                }
                let locked = try await listDomains(server, base: "URL", key: Gateway.adminKey, forgedFor: "203.0.113.9")
                #expect(locked.status == 429)
                #expect(locked.body.contains("from ::1;"), "the edge hands the socket's address: \(locked.body)")
                // The admin listener is on 127.0.0.1, a different address: not locked out. Had the
                // edge reached the API over loopback, its requests would have counted as 127.0.0.1.
                #expect(try await listDomains(server, base: server.admin, key: Gateway.adminKey, forgedFor: "::1").status == 200)
                // On the listener too, X-Forwarded-For from a loopback peer is not trusted any more.
                for index in 1...3 {
                    #expect(try await listDomains(server, base: server.admin, key: wrong, forgedFor: "198.51.100.\(index)").status == 401)
                }
                let listener = try await listDomains(server, base: server.admin, key: Gateway.adminKey, forgedFor: "198.51.100.9")
                #expect(listener.status == 429)
                #expect(listener.body.contains("from 127.0.0.1;"), "\(listener.body)")
            }
        }
    }
}
