import Crypto
import Foundation
import HopGateTestSupport
import Testing

/// Real `hopgate-server` and `hopgate-client` processes, a local backend, and curl through the
/// tunnel (plain HTTP on the public side until the TLS edge lands).
@Suite("Tunnel end to end", .serialized)
struct TunnelEndToEndTests {
    static let adminKey = "e2e-admin-key-0123456789abcdef0123456789"

    /// The running server's addresses, read from its log.
    struct Server {
        let process: ChildProcess
        let http: String
        let tunnelPort: Int
        let admin: String
    }

    func withServer<R>(dataDirectory: String, tunnelPort: Int = 0, _ body: (Server) async throws -> R) async throws -> R {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_ADMIN_API_KEY"] = Self.adminKey
        environment["HOP_DATA_DIR"] = dataDirectory
        environment["HOP_LOG_FORMAT"] = "text"
        return try await withChildProcess(binary("hopgate-server"), [
            "dev", "--env-file", "/nonexistent", "--admin-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
            "--tunnel-listen", "127.0.0.1:\(tunnelPort)",
        ], environment: environment) { process in
            let output = try await process.waitForOutput(containing: "admin API listening")
            _ = try await process.waitForOutput(containing: "tunnel endpoint")
            _ = try await process.waitForOutput(containing: "public HTTP listening on")
            let log = process.output
            let http = try #require(log.firstMatch(of: /public HTTP listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            let tunnel = try #require(log.firstMatch(of: /tunnel endpoint \(gRPC, plaintext\) listening on 127\.0\.0\.1:(\d+)/)?.1).description
            let admin = try #require(output.firstMatch(of: /admin API listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1).description
            return try await body(Server(process: process, http: http, tunnelPort: Int(tunnel)!, admin: admin))
        }
    }

    func register(_ domain: String, on server: Server) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_ADMIN_API_KEY"] = Self.adminKey
        environment["HOP_ADMIN_URL"] = server.admin
        let output = try await runCommand([binary("hopgate-server"), "domains", "register", domain, "--env-file", "/nonexistent"], environment: environment)
        return try #require(output.firstMatch(of: /shown once\): ([A-Za-z0-9_-]{64})/)?.1).description
    }

    func withClient<R>(domain: String, key: String, tunnelPort: Int, backend: Int, _ body: (ChildProcess) async throws -> R) async throws -> R {
        var environment = ProcessInfo.processInfo.environment
        environment["HOP_CLIENT_API_KEY"] = key
        return try await withChildProcess(binary("hopgate-client"), [
            "--server", "127.0.0.1:\(tunnelPort)", "--domain", domain, "--local-target", "127.0.0.1:\(backend)",
            "--plaintext", "--env-file", "/nonexistent", "--log-format", "text",
        ], environment: environment, body)
    }

    func curl(_ server: Server, _ host: String, _ arguments: String...) async throws -> String {
        try await runCommand(["curl", "-sS", "--max-time", "60", "-H", "Host: \(host)"] + arguments.map { $0.replacingOccurrences(of: "URL", with: server.http) })
    }

    @Test("requests of every method, large bodies both ways, streaming, concurrency, and failures")
    func throughTheTunnel() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await withServer(dataDirectory: directory) { server in
                    let key = try await register("app.example.com", on: server)
                    try await withClient(domain: "app.example.com", key: key, tunnelPort: server.tunnelPort, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for app.example.com")

                        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                            let reply = try await curl(server, "app.example.com", "-X", method, "URL/some/path?q=1")
                            #expect(reply == "hello from backend \(method) /some/path?q=1")
                        }
                        let head = try await curl(server, "app.example.com", "-I", "URL/bytes/1234")
                        #expect(head.contains("200") && head.lowercased().contains("content-length: 1234"))

                        let headers = try await curl(server, "app.example.com", "URL/headers")
                        #expect(headers.contains(#""X-Forwarded-Proto": "http""#) && headers.contains(#""X-Forwarded-Host": "app.example.com""#))

                        // 32 MiB each way, checksums compared.
                        let upload = directory + "/up.bin"
                        var generator = SystemRandomNumberGenerator()
                        try Data((0..<(32 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: upload))
                        let expected = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: upload))).map { String(format: "%02x", $0) }.joined()
                        #expect(try await curl(server, "app.example.com", "--data-binary", "@\(upload)", "URL/sha256") == expected)
                        let download = directory + "/down.bin"
                        _ = try await curl(server, "app.example.com", "-o", download, "URL/bytes/\(32 << 20)")
                        let direct = directory + "/direct.bin"
                        _ = try await runCommand(["curl", "-sS", "-o", direct, "http://127.0.0.1:\(backend)/bytes/\(32 << 20)"])
                        #expect(try Data(contentsOf: URL(fileURLWithPath: download)) == Data(contentsOf: URL(fileURLWithPath: direct)))

                        // Server-sent events arrive one by one, not at the end.
                        let events = try await curl(server, "app.example.com", "-N", "-w", "\\n%{time_starttransfer} %{time_total}", "URL/sse/10")
                        #expect(events.components(separatedBy: "data: event").count == 11)
                        let times = events.split(separator: "\n").last!.split(separator: " ").compactMap { Double($0) }
                        #expect(times.count == 2 && times[1] - times[0] > 0.3, "the first event came with the last: \(times)")

                        // 100 concurrent requests.
                        let replies = try await withThrowingTaskGroup(of: String.self) { group in
                            for index in 0..<100 {
                                group.addTask { try await self.curl(server, "app.example.com", "URL/n/\(index)") }
                            }
                            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
                        }
                        #expect(replies == Set((0..<100).map { "hello from backend GET /n/\($0)" }))

                        // Unknown host → 404; JSON when asked.
                        let unknown = try await curl(server, "nobody.example.com", "-H", "Accept: application/json", "-w", "%{http_code}", "URL/")
                        #expect(unknown.hasSuffix("404") && unknown.contains(#""success":false"#))

                        // The client killed while a slow request runs → the public side gets 502 quickly.
                        async let slow = curl(server, "app.example.com", "-w", "%{http_code}", "-o", "/dev/null", "URL/slow/5000")
                        try await Task.sleep(for: .milliseconds(500))
                        client.send(SIGKILL)
                        let started = ContinuousClock.now
                        #expect(try await slow == "502")
                        #expect(ContinuousClock.now - started < .seconds(1))
                    }
                    let noTunnel = try await curl(server, "app.example.com", "-o", "/dev/null", "-w", "%{http_code}", "URL/")
                    #expect(noTunnel == "502")

                    // A wrong key: the client is refused and exits 1; the server logs it and keeps serving.
                    try await withClient(domain: "app.example.com", key: String(repeating: "x", count: 64), tunnelPort: server.tunnelPort, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "refused", timeout: .seconds(10))
                        for _ in 0..<100 where client.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                        #expect(!client.process.isRunning && client.process.terminationStatus == 1)
                    }
                    #expect(server.process.output.contains("tunnel refused"))
                    #expect(!server.process.output.contains(key))
                }
            }
        }
    }

    @Test("the client comes back by itself after the server restarts")
    func reconnectsAfterServerRestart() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                let port = Int(try await runCommand(["/usr/bin/python3", "-c",
                    "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
                    .trimmingCharacters(in: .whitespacesAndNewlines))!
                let key = try await withServer(dataDirectory: directory, tunnelPort: port) { server in
                    try await register("back.example.com", on: server)
                }
                try await withClient(domain: "back.example.com", key: key, tunnelPort: port, backend: backend) { client in
                    try await withServer(dataDirectory: directory, tunnelPort: port) { server in
                        _ = try await client.waitForOutput(containing: "tunnel up", timeout: .seconds(30))
                        #expect(try await curl(server, "back.example.com", "URL/one") == "hello from backend GET /one")
                    }
                    let upBefore = client.output.components(separatedBy: "tunnel up").count - 1
                    try await withServer(dataDirectory: directory, tunnelPort: port) { server in
                        for _ in 0..<300 where client.output.components(separatedBy: "tunnel up").count - 1 == upBefore {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        #expect(client.output.components(separatedBy: "tunnel up").count - 1 == upBefore + 1)
                        #expect(try await curl(server, "back.example.com", "URL/two") == "hello from backend GET /two")
                    }
                }
            }
        }
    }
}
