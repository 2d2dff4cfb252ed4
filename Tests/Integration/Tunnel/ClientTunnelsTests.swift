import Foundation
import HopGateTestSupport
import Testing

/// `hopgate-client --tunnels N`: one client holding several pooled tunnels, each a connection
/// of its own (the edge prefers the one on a request's event loop).
@Suite("A client holding several tunnels", .serialized)
struct ClientTunnelsTests {
    typealias Gateway = GatewayProcesses
    static let domain = "tunnels.localhost"

    @Test("--tunnels 2: two tunnels up, requests over fresh connections answered, SIGTERM leaves both and exits 0")
    func twoTunnelsServeAndLeaveTogether() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory) { server in
                    let key = try await Gateway.register(Self.domain, on: server)
                    try await Gateway.withClient(
                        domain: Self.domain, key: key, server: server, backend: backend, extraArguments: ["--tunnels", "2"]
                    ) { client in
                        // Two up, more if the edge redrew one that landed on the other's event
                        // loop (its client then reconnects).
                        try await waitUntil("both tunnels are up") {
                            client.output.ranges(of: "tunnel up for \(Self.domain)").count >= 2
                        }
                        var metrics = ""
                        for _ in 0..<100 {
                            metrics = try await runCommand(["curl", "-sS", server.operations + "/metrics"])
                            if metrics.contains("hopgate_tunnels_active 2") { break }
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        #expect(metrics.contains("hopgate_tunnels_active 2"), "\(metrics)")
                        let redrawn = server.process.output.ranges(of: "tunnel redrawn").count
                        #expect(client.output.ranges(of: "tunnel up for \(Self.domain)").count >= 2 + redrawn)
                        // Each curl is a new public connection, so the requests start on both of
                        // the edge's event loops.
                        for index in 0..<16 {
                            let version: Gateway.HTTPVersion = index.isMultiple(of: 2) ? .http1 : .http2
                            let answer = try await Gateway.curl(server, Self.domain, version, ["URL/tunnels/\(index)"])
                            #expect(answer == "hello from backend GET /tunnels/\(index)", "request \(index) over \(version)")
                        }
                        client.send(SIGTERM)
                        for _ in 0..<600 where client.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
                        #expect(!client.process.isRunning, "the client did not exit within 30 s")
                        if !client.process.isRunning { #expect(client.process.terminationStatus == 0, "\(client.output.suffix(2000))") }
                        try await waitUntil("the server saw both tunnels leave") {
                            server.process.output.ranges(of: "tunnel leaving at the client's request").count == 2
                        }
                    }
                }
            }
        }
    }

    @Test("a tunnel count outside 1-8 is refused, naming the setting", arguments: [
        (["--tunnels", "9"], [String: String](), "configuration error: --tunnels is 9"),
        (["--tunnels", "0"], [:], "configuration error: --tunnels is 0"),
        ([], ["HOP_CLIENT_TUNNELS": "lots"], "configuration error: HOP_CLIENT_TUNNELS is 'lots'"),
        // A key that begins with `-` (one in 64 do) is still the key, not a missing value.
        (["--api-key", "-" + String(repeating: "k", count: 63), "--tunnels", "9"], [:], "configuration error: --tunnels is 9"),
    ])
    func outOfRangeCountsAreRefused(arguments: [String], environment: [String: String], message: String) async throws {
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment["HOP_CLIENT_API_KEY"] = String(repeating: "k", count: 64)
        processEnvironment.merge(environment) { $1 }
        let failure = await #expect(throws: ChildProcessError.self) {
            try await runCommand([
                binary("hopgate-client"), "--server", "127.0.0.1:9", "--server-name", "hopgate.localhost", "--domain", Self.domain,
                "--local-target", "127.0.0.1:9", "--env-file", "/nonexistent",
            ] + arguments, environment: processEnvironment)
        }
        #expect(failure?.description.contains(message) == true, "\(String(describing: failure))")
    }

    /// Polls `condition` every 50 ms for up to 30 s.
    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<600 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting until \(what)")
    }
}
