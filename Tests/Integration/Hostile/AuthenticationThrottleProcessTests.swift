import Foundation
import HopGateTestSupport
import Testing

/// Brute-forcing the admin key against a running `hopgate-server`: after
/// `HOP_AUTH_MAX_FAILURES` wrong keys the address gets 429 with `Retry-After`, even with the
/// right key, until the lockout ends.
@Suite("Authentication throttle (server process)")
struct AuthenticationThrottleProcessTests {
    typealias Gateway = GatewayProcesses

    /// `curl` of the admin API's domain list; returns the status and the `Retry-After` header.
    func listDomains(_ server: Gateway.Server, key: String) async throws -> (status: Int, retryAfter: Int?) {
        let output = try await runCommand([
            "curl", "-s", "-o", "/dev/null", "-D", "-", "-w", "status=%{http_code}",
            "-H", "Authorization: Bearer \(key)", "\(server.admin)/api/v1/admin/domains",
        ])
        let status = Int(try #require(output.firstMatch(of: /status=(\d+)/)?.1)) ?? 0
        let retryAfter = output.firstMatch(of: /(?i)retry-after: (\d+)/).flatMap { Int($0.1) }
        return (status, retryAfter)
    }

    @Test("wrong admin keys lock the address out with 429 and Retry-After; the right key works again after the lockout")
    func adminKeyGuessing() async throws {
        try await withTemporaryDirectory { directory in
            // 6 s: the four curls must all fall inside the lockout, and under the whole suite's
            // load on two cores they once took longer than 2 s.
            let settings = ["HOP_AUTH_MAX_FAILURES": "3", "HOP_AUTH_LOCKOUT": "6s"]
            try await Gateway.withServer(dataDirectory: directory, settings: settings) { server in
                let wrong = String(repeating: "w", count: 40)
                let started = ContinuousClock.now
                for _ in 0..<3 { #expect(try await listDomains(server, key: wrong).status == 401) }
                let locked = try await listDomains(server, key: Gateway.adminKey)
                #expect(locked.status == 429, "after \(ContinuousClock.now - started); server said: \(server.process.output.suffix(1500))")
                let wait = try #require(locked.retryAfter)
                #expect((1...6).contains(wait), "Retry-After \(wait)")
                _ = try await server.process.waitForOutput(containing: "address turned away after repeated authentication failures")
                try await Task.sleep(for: .seconds(wait) + .milliseconds(100))
                #expect(try await listDomains(server, key: Gateway.adminKey).status == 200)
                #expect(!server.process.output.contains(Gateway.adminKey))
            }
        }
    }
}
