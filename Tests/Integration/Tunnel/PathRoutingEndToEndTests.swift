import Foundation
import HopGateTestSupport
import Synchronization
import Testing

/// Several clients behind one domain: the edge routes by the longest advertised path prefix,
/// and clients restarting one after another under load fail no request.
@Suite("Routing by path across clients, and rolling restarts", .serialized)
struct PathRoutingEndToEndTests {
    typealias Gateway = GatewayProcesses
    static let domain = "app.localhost"
    /// The download that runs on the first client while it leaves. Rate-limited to last about
    /// 4 s, it is in flight when that client is told to leave; small enough to end well inside
    /// the 30 s a drain may take even on a loaded CI machine, where the debug build streams at
    /// a few MB/s (a 64 MiB one once needed longer, and the drain's deadline cut it).
    static let downloadSize = 16 << 20

    @Test("two clients for one domain, /api and /: each path reaches its own backend over HTTP/1.1 and HTTP/2")
    func twoClientsSplitByPrefix() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { web in
                try await withTestBackend { api in
                    try await Gateway.withServer(dataDirectory: directory) { server in
                        let key = try await Gateway.register(Self.domain, on: server)
                        try await Gateway.withClient(domain: Self.domain, key: key, server: server, backend: web) { webClient in
                            try await Gateway.withClient(
                                domain: Self.domain, key: key, server: server, backend: nil,
                                extraArguments: ["--service", "api=/api=127.0.0.1:\(api)=strip"]
                            ) { apiClient in
                                _ = try await webClient.waitForOutput(containing: "tunnel up for \(Self.domain)")
                                _ = try await apiClient.waitForOutput(containing: "tunnel up for \(Self.domain)")
                                try await checkRoutes(server: server, web: web, api: api)
                            }
                        }
                    }
                }
            }
        }
    }

    private func checkRoutes(server: GatewayProcesses.Server, web: Int, api: Int) async throws {
        for version in GatewayProcesses.HTTPVersion.allCases {
            func get(_ path: String, _ extra: [String] = []) async throws -> String {
                try await Gateway.curl(server, Self.domain, version, ["--path-as-is"] + extra + ["URL\(path)"])
            }
            // /api is stripped by its client, which says so in X-Forwarded-Prefix.
            #expect(try await get("/api/users/whoami?page=2") == "backend \(api) /users/whoami?page=2 prefix=/api", "\(version)")
            #expect(try await get("/api/whoami") == "backend \(api) /whoami prefix=/api")
            #expect(try await get("/whoami") == "backend \(web) /whoami prefix=-")
            #expect(try await get("/apix/whoami") == "backend \(web) /apix/whoami prefix=-")
            // Dot segments and escapes are resolved before matching: this is the web's /whoami,
            // and it reaches the web backend as sent.
            #expect(try await get("/api/../whoami") == "backend \(web) /api/../whoami prefix=-")
            #expect(try await get("/%61pi/whoami") == "backend \(api) /whoami prefix=/api")
            // The edge does not pass on a public client's own X-Forwarded-Prefix.
            #expect(try await get("/whoami", ["-H", "X-Forwarded-Prefix: /evil"]) == "backend \(web) /whoami prefix=-")
        }
        // The admin API's status and /metrics show the routes.
        let status = try await runCommand([
            "curl", "-sS", "-H", "Authorization: Bearer \(Gateway.adminKey)", "\(server.admin)/api/v1/admin/domains/status?domain=\(Self.domain)",
        ])
        let routes = try #require(try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])["routes"] as? [[String: Any]]
        #expect(routes?.map { "\($0["prefix"]!)=\($0["tunnels"]!)" } == ["/=1", "/api=1"], "\(status)")
        let metrics = try await runCommand(["curl", "-sS", "\(server.operations)/metrics"])
        #expect(metrics.contains("hopgate_tunnel_routes 2"), "\(metrics)")
    }

    @Test("three clients restarted one after another with SIGTERM under steady h2load: zero failed requests")
    func rollingRestartFailsNothing() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory) { server in
                    let key = try await Gateway.register(Self.domain, on: server)
                    let clients = ClientStarter(key: key, server: server, backend: backend)
                    try await clients.start { first in
                        // The download starts while the first client is the only one, so it runs
                        // through it.
                        async let download = Gateway.curl(server, Self.domain, .http2, [
                            "--limit-rate", "4M", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}s", "URL/bytes/\(Self.downloadSize)",
                        ])
                        try await Task.sleep(for: .milliseconds(300))
                        try await clients.start { second in
                            try await clients.start { third in
                                let load = SteadyLoad(url: "https://\(Self.domain):\(server.httpsPort)/", port: server.httpsPort)
                                // Awaited below, and stopped however the test ends.
                                let counts = Task { try await load.run() }
                                defer { load.stop() }
                                try await Task.sleep(for: .seconds(1))
                                // The load stops while the last replacement still runs (the
                                // replacements stop when their scopes end).
                                var total = SteadyLoad.Counts()
                                let leaving = try await restartOneAfterAnother([first, second, third][...], clients: clients) {
                                    load.stop()
                                    total = try await counts.value
                                }
                                let retried = server.process.output.components(separatedBy: "retrying on another tunnel").count - 1
                                print("rolling restart: \(total); \(retried) requests retried on another tunnel; client exits \(leaving)")
                                #expect(total.failures == 0, "\(total)")
                                if total.failures > 0 {
                                    // The failed requests' own lines first: the tunnel events around them follow.
                                    let log = server.process.output.split(separator: "\n")
                                    let failed = log.filter { $0.contains("status=5") || $0.contains("warning") || $0.contains("error ") }
                                    let tunnels = log.filter { $0.contains("tunnel_hub") }
                                    print("server log, failures:\n" + failed.prefix(30).joined(separator: "\n"))
                                    print("server log, tunnels:\n" + tunnels.prefix(40).joined(separator: "\n"))
                                }
                                #expect(total.succeeded >= 500, "too little load to show anything: \(total)")
                                #expect(leaving.allSatisfy { $0 == 0 }, "client exit statuses \(leaving)")
                            }
                        }
                        // The first client left only after the download it carried had ended.
                        let result: String
                        do { result = try await download } catch { result = "\(error)" }
                        // How its tunnel closed says whether the drain's deadline cut it.
                        let closes = server.process.output.split(separator: "\n").filter { $0.contains("tunnel closed") }
                        #expect(result.hasPrefix("200 \(Self.downloadSize) "), "the download through the leaving client: \(result); \(closes)")
                        print("rolling restart: the 16 MiB download completed through the first client, which left after it: \(result)")
                        #expect(server.process.output.contains("tunnel leaving at the client's request"))
                    }
                }
            }
        }
    }

    /// Starts a client for the domain and waits for its tunnel.
    struct ClientStarter {
        let key: String
        let server: GatewayProcesses.Server
        let backend: Int

        func start(_ body: (ChildProcess) async throws -> Void) async throws {
            try await Gateway.withClient(domain: PathRoutingEndToEndTests.domain, key: key, server: server, backend: backend) { client in
                _ = try await client.waitForOutput(containing: "tunnel up for \(PathRoutingEndToEndTests.domain)")
                try await body(client)
            }
        }
    }

    /// Sends SIGTERM to each client in turn, waits for it to exit, starts its replacement and
    /// lets traffic reach it before the next; runs `end` once all are replaced (while the
    /// replacements run) and returns the exit statuses of the old clients.
    private func restartOneAfterAnother(
        _ old: ArraySlice<ChildProcess>, clients: ClientStarter, then end: () async throws -> Void
    ) async throws -> [Int32] {
        guard let leaving = old.first else {
            try await end()
            return []
        }
        leaving.send(SIGTERM)
        for _ in 0..<600 where leaving.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!leaving.process.isRunning, "a leaving client did not exit within 30 s")
        let status = leaving.process.isRunning ? -1 : leaving.process.terminationStatus
        var rest: [Int32] = []
        try await clients.start { _ in
            try await Task.sleep(for: .seconds(1))
            rest = try await restartOneAfterAnother(old.dropFirst(), clients: clients, then: end)
        }
        return [status] + rest
    }
}

/// Small GETs through h2load, run after run (4 connections × 16 streams, 400 requests each)
/// until stopped, with every outcome added up.
final class SteadyLoad: Sendable {
    struct Counts: Sendable, CustomStringConvertible {
        var runs = 0
        var succeeded = 0
        /// Failed, errored or timed-out requests, and answers other than 2xx.
        var failures = 0
        var report = ""
        var description: String { "\(runs) h2load runs, \(succeeded) succeeded, \(failures) failed\(failures > 0 ? ": \(report)" : "")" }
    }

    let url: String
    let port: Int
    private let stopped = Mutex(false)

    init(url: String, port: Int) {
        self.url = url
        self.port = port
    }

    func stop() { stopped.withLock { $0 = true } }

    func run() async throws -> Counts {
        var counts = Counts()
        while !stopped.withLock({ $0 }) {
            let report = try await runCommand(["h2load", "-n", "400", "-c", "4", "-m", "16", "--connect-to", "127.0.0.1:\(port)", url])
            counts.runs += 1
            let requests = try #require(report.firstMatch(of: /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/))
            let codes = try #require(report.firstMatch(of: /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/))
            counts.succeeded += Int(requests.1)!
            let failed = Int(requests.2)! + Int(requests.3)! + Int(requests.4)! + Int(codes.3)! + Int(codes.4)! + (400 - Int(codes.1)! - Int(codes.2)! - Int(codes.3)! - Int(codes.4)!)
            if failed > 0 {
                counts.failures += failed
                counts.report += report.split(separator: "\n").filter { $0.hasPrefix("requests:") || $0.hasPrefix("status codes:") }.joined(separator: " ") + "; "
            }
        }
        return counts
    }
}
