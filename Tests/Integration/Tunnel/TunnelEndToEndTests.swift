import Crypto
import Foundation
import HopGateTestSupport
import Testing

/// Real `hopgate-server` and `hopgate-client` processes, a local backend, and curl through the
/// tunnel over HTTPS (the server's self-signed development CA), with the tunnel sharing the
/// HTTPS port.
@Suite("Tunnel end to end", .serialized)
struct TunnelEndToEndTests {
    typealias Gateway = GatewayProcesses

    /// Bytes sent each way in the large-body test.
    static let largeBodySize = 256 << 20

    @Test("every method over HTTP/1.1 and HTTP/2, HEAD, forwarded headers, unknown hosts")
    func methodsAndHeaders() async throws {
        try await withTunnel(domain: "app.example.com") { server, _, _ in
            for version in Gateway.HTTPVersion.allCases {
                for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                    let reply = try await Gateway.curl(server, "app.example.com", version, ["-X", method, "URL/some/path?q=1"])
                    #expect(reply == "hello from backend \(method) /some/path?q=1", "\(version) \(method)")
                }
                let head = try await Gateway.curl(server, "app.example.com", version, ["-I", "URL/bytes/1234"])
                #expect(head.hasPrefix(version == .http2 ? "HTTP/2 200" : "HTTP/1.1 200"), "\(head)")
                #expect(head.lowercased().contains("content-length: 1234"))

                let headers = try await Gateway.curl(server, "app.example.com", version, ["URL/headers"])
                // X-Forwarded-Host is the Host the client sent, port included (as Caddy and Traefik do).
                #expect(headers.contains(#""X-Forwarded-Proto": "https""#), "\(headers)")
                #expect(headers.contains(#""X-Forwarded-Host": "app.example.com:\#(server.httpsPort)""#), "\(headers)")
                #expect(headers.contains(#""X-Forwarded-For": "127.0.0.1""#), "\(headers)")

                // Expect: 100-continue gets its go-ahead from the edge, then the body goes through.
                let continued = try await Gateway.curl(server, "app.example.com", version, [
                    "-D", "-", "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary", "payload", "URL/echo"])
                #expect(continued.contains(" 100") && continued.hasSuffix("\r\n\r\npayload"), "\(continued)")

                // An unregistered name gets no certificate: the TLS handshake is refused ...
                await #expect(throws: (any Error).self) {
                    try await Gateway.curl(server, "nobody.example.com", version, ["URL/"])
                }
                // ... and an unregistered Host on a registered name's connection is a 404.
                let unknown = try await Gateway.curl(server, "app.example.com", version, [
                    "-H", "Host: nobody.example.com", "-H", "Accept: application/json", "-w", "%{http_code}", "URL/"])
                #expect(unknown.hasSuffix("404") && unknown.contains(#""success":false"#), "\(unknown)")
            }
            // Plain HTTP redirects to the same URL on HTTPS (308 keeps the method and body) ...
            let redirect = try await runCommand(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                "-H", "Host: app.example.com", "-X", "POST", "-d", "x", server.http + "/plain?q=1"])
            #expect(redirect == "308 https://app.example.com:\(server.httpsPort)/plain?q=1")
            // ... and curl following it ends at the local service.
            let followed = try await runCommand(["curl", "-sS", "-L", "--cacert", server.caFile,
                "--resolve", "app.example.com:\(server.httpsPort):127.0.0.1", "--connect-to", "app.example.com:80:127.0.0.1:\(server.http.split(separator: ":").last!)",
                "http://app.example.com/followed"])
            #expect(followed == "hello from backend GET /followed")
            // ACME HTTP-01 paths are answered by the challenge responder (none here: 404), never proxied.
            let challenge = try await runCommand(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "-H", "Host: app.example.com", server.http + "/.well-known/acme-challenge/abc_DEF-123"])
            #expect(challenge == "404")
        }
    }

    @Test("the admin API is served at https://<server domain>/api/v1/admin, and only there")
    func adminAPIOnTheServerDomain() async throws {
        try await withTunnel(domain: "app.example.com") { server, _, _ in
            let auth = "Authorization: Bearer \(Gateway.adminKey)"
            for version in Gateway.HTTPVersion.allCases {
                let domain = "site-\(version == .http2 ? "h2" : "h1").example.com"
                let registered = try await Gateway.curl(server, "hopgate.localhost", version, [
                    "-H", auth, "-H", "Content-Type: application/json", "-d", #"{"domain":"\#(domain)"}"#, "URL/api/v1/admin/domains/register"])
                let key = try #require(registered.firstMatch(of: /"client_api_key" : "([A-Za-z0-9_-]{64})"/)?.1, "\(registered)")
                #expect(!server.process.output.contains(key), "the key shows in the server's log")
                let exists = try await Gateway.curl(server, "hopgate.localhost", version, ["-H", auth, "URL/api/v1/admin/domains/exists?domain=\(domain)"])
                #expect(exists.filter { !$0.isWhitespace }.contains(#""exists":true"#), "\(exists)")
            }
            let unauthorized = try await Gateway.curl(server, "hopgate.localhost", .http2, ["-o", "/dev/null", "-w", "%{http_code}", "URL/api/v1/admin/domains"])
            #expect(unauthorized == "401")
            let document = try await Gateway.curl(server, "hopgate.localhost", .http1, ["URL/api/v1/admin/openapi.json"])
            #expect(document.contains(#""openapi""#))
            // Other paths of the server's domain are not the admin API; other domains' admin-looking paths go to their tunnel.
            let elsewhere = try await Gateway.curl(server, "hopgate.localhost", .http1, ["-o", "/dev/null", "-w", "%{http_code}", "URL/api/v1/administrator"])
            #expect(elsewhere == "404")
            #expect(try await Gateway.curl(server, "app.example.com", .http1, ["-H", auth, "URL/api/v1/admin/domains"]) == "hello from backend GET /api/v1/admin/domains")
            #expect(!server.process.output.contains(Gateway.adminKey))
        }
    }

    @Test("/metrics counts requests, tunnels, handshakes, bytes and errors without domain labels; /healthz and /readyz answer")
    func metricsAndHealth() async throws {
        try await withTunnel(domain: "metrics.example.com") { server, _, _ in
            #expect(try await runCommand(["curl", "-sS", server.operations + "/healthz"]) == "ok\n")
            #expect(try await runCommand(["curl", "-sS", server.operations + "/readyz"]) == "ready\n")
            for _ in 0..<3 { _ = try await Gateway.curl(server, "metrics.example.com", .http2, ["URL/bytes/1000"]) }
            _ = try await Gateway.curl(server, "metrics.example.com", .http1, ["-H", "Host: nobody.example.com", "URL/"])
            let metrics = try await runCommand(["curl", "-sS", server.operations + "/metrics"])
            #expect(metrics.contains(#"hopgate_http_requests_total{method="GET",status_class="2xx"} 3"#), "\(metrics)")
            #expect(metrics.contains(#"hopgate_http_requests_total{method="GET",status_class="4xx"} 1"#))
            #expect(metrics.contains(#"hopgate_proxy_errors_total{kind="unknown_host"} 1"#))
            #expect(metrics.contains("hopgate_tunnels_active 1"))
            #expect(metrics.contains(#"hopgate_tunnel_handshakes_total{outcome="admitted"} 1"#))
            #expect(metrics.contains(#"hopgate_proxy_bytes_total{direction="out"} 3000"#))
            #expect(metrics.contains("hopgate_http_request_duration_seconds_count 4"))
            #expect(!metrics.contains("example.com"), "a domain leaked into a label")
            let expiry = metrics.firstMatch(of: /hopgate_certificate_expiry_timestamp_seconds ([0-9.e+]+)/).flatMap { Double($0.1) }
            #expect(expiry.map { $0 > Date().timeIntervalSince1970 + 30 * 86_400 } == true, "\(metrics)")
            let missing = try await runCommand(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", server.operations + "/nothing"])
            #expect(missing == "404")
        }
    }

    @Test("a 256 MiB upload and download through the tunnel, checksums compared")
    func largeBodies() async throws {
        try await withTemporaryDirectory { directory in
            try await withTunnel(domain: "big.example.com") { server, backend, _ in
                let upload = directory + "/up.bin"
                _ = try await runCommand(["sh", "-c", "head -c \(Self.largeBodySize) /dev/urandom > \(upload)"])
                let expected = try await runCommand(["sh", "-c", "sha256sum < \(upload) | cut -d' ' -f1"])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let uploaded = try await Gateway.curl(server, "big.example.com", .http2, ["--data-binary", "@\(upload)", "URL/sha256"])
                #expect(uploaded == expected)

                let download = directory + "/down.bin", direct = directory + "/direct.bin"
                _ = try await Gateway.curl(server, "big.example.com", .http1, ["-o", download, "URL/bytes/\(Self.largeBodySize)"])
                _ = try await runCommand(["curl", "-sS", "-o", direct, "http://127.0.0.1:\(backend)/bytes/\(Self.largeBodySize)"])
                let sums = try await runCommand(["sha256sum", download, direct]).split(separator: "\n").map { $0.prefix(64) }
                #expect(sums.count == 2 && sums[0] == sums[1])
                #expect(try FileManager.default.attributesOfItem(atPath: download)[.size] as? Int == Self.largeBodySize)
            }
        }
    }

    @Test("chunked and server-sent-event responses arrive incrementally")
    func streaming() async throws {
        try await withTunnel(domain: "stream.example.com") { server, _, _ in
            for version in Gateway.HTTPVersion.allCases {
                for (path, marker) in [("sse/10", "data: event"), ("chunked/10", "chunk ")] {
                    let reply = try await Gateway.curl(server, "stream.example.com", version, ["-N", "-w", "\\n%{time_starttransfer} %{time_total}", "URL/\(path)"])
                    #expect(reply.components(separatedBy: marker).count == 11)
                    let times = reply.split(separator: "\n").last!.split(separator: " ").compactMap { Double($0) }
                    #expect(times.count == 2 && times[1] - times[0] > 0.3, "\(version) \(path): the first piece came with the last: \(times)")
                }
            }
        }
    }

    @Test("a WebSocket echo through the tunnel; a client that vanishes mid-session leaves nothing open")
    func webSocket() async throws {
        let checker = fixtureScript("ws_check.py")
        try await withTunnel(domain: "ws.example.com") { server, backend, client in
            let url = "wss://ws.example.com:\(server.httpsPort)/ws"
            let report = try await runCommand(["/usr/bin/python3", checker, url, server.caFile])
            #expect(report.hasPrefix("ok text, 1 MiB binary, 200 pipelined, close"), "\(report)")
            // The client logs the exchange when it ends, which may be just after the checker returns.
            _ = try await client.waitForOutput(containing: "status=101", timeout: .seconds(10))

            // Three clients disappear without a closing handshake: the edge notices, the tunnel
            // exchange ends, and the client closes its connections to the service.
            for _ in 0..<3 {
                #expect(try await runCommand(["/usr/bin/python3", checker, url, server.caFile, "--vanish"]).hasPrefix("ok vanished"))
            }
            var open = -1
            for _ in 0..<100 {
                open = try await runCommand(["ss", "-Htn", "state", "established", "( dport = :\(backend) )"])
                    .split(separator: "\n").count
                if open == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(open == 0, "connections to the backend still open after the WebSocket clients vanished")

            // A declined upgrade is an ordinary response; the next connection works as usual.
            let declined = try await Gateway.curl(server, "ws.example.com", .http1, ["-H", "Upgrade: websocket", "-H", "Connection: Upgrade", "URL/plain"])
            #expect(declined == "hello from backend GET /plain")
            #expect(try await Gateway.curl(server, "ws.example.com", .http2, ["URL/after"]) == "hello from backend GET /after")
        }
    }

    @Test("trailers pass both ways for clients that accept them (TE: trailers)")
    func trailers() async throws {
        let checker = fixtureScript("trailers_check.py")
        try await withTunnel(domain: "trailers.example.com") { server, _, _ in
            // Request trailers (HTTP/1.1 chunked; curl cannot send them) reach the service, its trailers come back.
            let report = try await runCommand(["/usr/bin/python3", checker, "https://trailers.example.com:\(server.httpsPort)/trailers", server.caFile])
            #expect(report.contains(#""body": "14 bytes""#), "\(report)")
            #expect(report.contains(#"\"x-client-checksum\": \"abc123\""#), "\(report)")
            #expect(report.contains(#""x-body-sha256": "751deea5412df1b310ba8b50f84808766b2fc2477cb54af5033d270f74e46601""#), "\(report)")
            // Response trailers over HTTP/1.1 and HTTP/2 (curl prints them after the body with -D -).
            for version in Gateway.HTTPVersion.allCases {
                let reply = try await Gateway.curl(server, "trailers.example.com", version, ["-D", "-", "-H", "TE: trailers", "-d", "abc", "URL/trailers"])
                #expect(reply.lowercased().contains("3 bytesx-body-sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "\(version): \(reply)")
            }
        }
    }

    @Test("200 concurrent requests over HTTP/1.1 connections and multiplexed HTTP/2 streams")
    func concurrency() async throws {
        try await withTemporaryDirectory { directory in
            try await withTunnel(domain: "busy.example.com") { server, _, _ in
                for version in Gateway.HTTPVersion.allCases {
                    let output = directory + "/\(version)"
                    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                    _ = try await Gateway.curl(server, "busy.example.com", version,
                        ["--parallel", "--parallel-immediate", "--parallel-max", "200", "--remote-name-all", "--output-dir", output]
                            + (0..<200).map { "URL/n/\($0)" })
                    for index in 0..<200 {
                        let body = try String(contentsOfFile: output + "/\(index)", encoding: .utf8)
                        #expect(body == "hello from backend GET /n/\(index)", "\(version) #\(index)")
                    }
                }
            }
        }
    }

    @Test("small requests are answered while a large download holds the same tunnel (no head-of-line blocking)")
    func noHeadOfLineBlocking() async throws {
        try await withTunnel(domain: "hol.example.com") { server, _, _ in
            // A 256 MiB download read at 4 MiB/s: it stays in flight for the whole test, with its
            // HTTP/2 stream's window full — the case where one shared stream would stall the rest.
            try await withChildProcess("/usr/bin/curl", [
                "-sS", "--limit-rate", "4M", "-o", "/dev/null", "--cacert", server.caFile,
                "--resolve", "hol.example.com:\(server.httpsPort):127.0.0.1", "https://hol.example.com:\(server.httpsPort)/bytes/\(256 << 20)",
            ]) { download in
                try await Task.sleep(for: .seconds(1))
                for index in 0..<50 {
                    let version: Gateway.HTTPVersion = index.isMultiple(of: 2) ? .http1 : .http2
                    #expect(try await Gateway.curl(server, "hol.example.com", version, ["URL/small/\(index)"]) == "hello from backend GET /small/\(index)")
                }
                #expect(download.process.isRunning, "the download finished early; the test proved nothing")
            }
        }
    }

    @Test("a browser-like HTTP/2 client and the tunnel client share the HTTPS port")
    func browserAndTunnelOnOnePort() async throws {
        try await withTunnel(domain: "web.example.com") { server, _, client in
            // h2load: one TLS connection, ALPN h2, 100 multiplexed streams, like a browser page load.
            let report = try await runCommand([
                "h2load", "-n", "400", "-c", "2", "-m", "100",
                "--connect-to", "127.0.0.1:\(server.httpsPort)", "https://web.example.com:\(server.httpsPort)/asset",
            ])
            #expect(report.contains("400 succeeded"), "\(report)")
            #expect(report.contains("status codes: 400 2xx"), "\(report)")
            #expect(report.contains("h2"), "\(report)")
            // curl --http2 negotiates real HTTP/2 web responses on the tunnel's port, never gRPC's 415.
            let version = try await Gateway.curl(server, "web.example.com", .http2, ["-o", "/dev/null", "-w", "%{http_version} %{http_code}", "URL/"])
            #expect(version == "2 200")
            #expect(client.output.contains("tunnel up for web.example.com"))
            #expect(!client.output.contains("tunnel down"))
        }
    }

    @Test("the client killed mid-request gives 502 within a second; a wrong key is refused while others are served")
    func failures() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory) { server in
                    let key = try await Gateway.register("app.example.com", on: server)
                    let otherKey = try await Gateway.register("other.example.com", on: server)
                    try await Gateway.withClient(domain: "other.example.com", key: otherKey, server: server, backend: backend) { other in
                        _ = try await other.waitForOutput(containing: "tunnel up for other.example.com")
                        try await Gateway.withClient(domain: "app.example.com", key: key, server: server, backend: backend) { client in
                            _ = try await client.waitForOutput(containing: "tunnel up for app.example.com")
                            async let slow = Gateway.curl(server, "app.example.com", .http2, ["-w", "%{http_code}", "-o", "/dev/null", "URL/slow/5000"])
                            try await Task.sleep(for: .milliseconds(500))
                            client.send(SIGKILL)
                            let started = ContinuousClock.now
                            #expect(try await slow == "502")
                            #expect(ContinuousClock.now - started < .seconds(1))
                        }
                        let noTunnel = try await Gateway.curl(server, "app.example.com", .http1, ["-o", "/dev/null", "-w", "%{http_code}", "URL/"])
                        #expect(noTunnel == "502")

                        // A wrong key: refused, exit 1, logged without the key; the other domain keeps working.
                        let wrongKey = String(repeating: "x", count: 64)
                        try await Gateway.withClient(domain: "app.example.com", key: wrongKey, server: server, backend: backend) { client in
                            _ = try await client.waitForOutput(containing: "refused", timeout: .seconds(10))
                            for _ in 0..<100 where client.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                            #expect(!client.process.isRunning && client.process.terminationStatus == 1)
                        }
                        #expect(server.process.output.contains("tunnel refused"))
                        #expect(!server.process.output.contains(key) && !server.process.output.contains(wrongKey))
                        #expect(try await Gateway.curl(server, "other.example.com", .http2, ["URL/still"]) == "hello from backend GET /still")
                    }
                }
            }
        }
    }

    @Test("the client comes back by itself after the server restarts")
    func reconnectsAfterServerRestart() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                let port = try freeLoopbackPort()
                let key = try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                    try await Gateway.register("back.example.com", on: server)
                }
                try await Gateway.withClient(domain: "back.example.com", key: key, httpsPort: port, caFile: directory + "/ca/ca.pem", backend: backend) { client in
                    try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                        _ = try await client.waitForOutput(containing: "tunnel up", timeout: .seconds(30))
                        #expect(try await Gateway.curl(server, "back.example.com", .http2, ["URL/one"]) == "hello from backend GET /one")
                    }
                    let upBefore = client.output.components(separatedBy: "tunnel up").count - 1
                    try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                        for _ in 0..<300 where client.output.components(separatedBy: "tunnel up").count - 1 == upBefore {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        #expect(client.output.components(separatedBy: "tunnel up").count - 1 == upBefore + 1)
                        #expect(try await Gateway.curl(server, "back.example.com", .http1, ["URL/two"]) == "hello from backend GET /two")
                    }
                }
            }
        }
    }

    @Test("a separate plaintext tunnel port is a setting: the tunnel moves there, the HTTPS port serves web only")
    func separateTunnelPort() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory, extraArguments: ["--tunnel-listen", "127.0.0.1:0"]) { server in
                    let tunnelPort = try Gateway.plaintextTunnelPort(of: server)
                    #expect(!server.process.output.contains("shares the HTTPS port"))
                    let key = try await Gateway.register("apart.example.com", on: server)
                    try await Gateway.withPlaintextClient(domain: "apart.example.com", key: key, tunnelPort: tunnelPort, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for apart.example.com")
                        #expect(try await Gateway.curl(server, "apart.example.com", .http2, ["URL/apart"]) == "hello from backend GET /apart")
                    }
                }
            }
        }
    }

    @Test("SIGTERM: no new connections, streaming responses in flight finish (HTTP/1.1 and HTTP/2), exit 0")
    func gracefulShutdown() async throws {
        try await withTunnel(domain: "drain.example.com") { server, _, _ in
            // 60 chunks, one every 50 ms: about 3 s.
            async let h1 = Gateway.curl(server, "drain.example.com", .http1, ["URL/chunked/60"])
            async let h2 = Gateway.curl(server, "drain.example.com", .http2, ["URL/chunked/60"])
            try await Task.sleep(for: .milliseconds(700))
            server.process.send(SIGTERM)
            _ = try await server.process.waitForOutput(containing: "stops accepting")
            let refused = try? await Gateway.curl(server, "drain.example.com", .http1, ["--max-time", "2", "URL/new"])
            #expect(refused == nil, "a new connection was served after SIGTERM")
            let expected = (0..<60).map { "chunk \($0)\n" }.joined()
            #expect(try await h1 == expected)
            #expect(try await h2 == expected)
            for _ in 0..<200 where server.process.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!server.process.process.isRunning && server.process.process.terminationStatus == 0)
        }
    }

    @Test("SIGTERM to the client: its in-flight streams finish, it exits 0, and the server sends it nothing new")
    func clientLeavesGracefully() async throws {
        try await withTunnel(domain: "leaving.example.com") { server, _, client in
            async let stream = Gateway.curl(server, "leaving.example.com", .http2, ["URL/chunked/40"])
            try await Task.sleep(for: .milliseconds(500))
            client.send(SIGTERM)
            _ = try await client.waitForOutput(containing: "leaving:")
            #expect(try await stream == (0..<40).map { "chunk \($0)\n" }.joined())
            for _ in 0..<200 where client.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!client.process.isRunning && client.process.terminationStatus == 0)
            #expect(server.process.output.contains("tunnel leaving at the client's request"))
            let after = try await Gateway.curl(server, "leaving.example.com", .http1, ["-o", "/dev/null", "-w", "%{http_code}", "URL/"])
            #expect(after == "502")
        }
    }

    @Test("dev --demo prints a curl line that works, over HTTP/1.1 and HTTP/2")
    func demo() async throws {
        try await withTemporaryDirectory { directory in
            try await Gateway.withServer(dataDirectory: directory, extraArguments: ["--demo"]) { server in
                let log = try await server.process.waitForOutput(containing: "demo ready, try: ")
                let line = try #require(log.split(separator: "\n").first { $0.contains("demo ready, try: ") })
                let command = String(line[line.range(of: "try: ")!.upperBound...])
                #expect(command.hasPrefix("curl --cacert \(directory)/ca/ca.pem --resolve demo.localhost:\(server.httpsPort):127.0.0.1 https://demo.localhost:\(server.httpsPort)/"))
                for flag in ["", " --http2"] {
                    let reply = try await runCommand(["sh", "-c", "\(command) -sS\(flag)"])
                    #expect(reply.hasPrefix("Hello from the HopGate demo backend! You sent GET / through the tunnel."), "\(reply)")
                }
            }
        }
    }

    @Test("a client trickling its request head, and an idle keep-alive connection, are cut off; a long response is not")
    func requestHeadTimeout() async throws {
        let script = fixtureScript("slow_client.py")
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory, settings: ["HOP_SERVER_REQUEST_HEAD_TIMEOUT": "1s"]) { server in
                    let key = try await Gateway.register("slow.example.com", on: server)
                    try await Gateway.withClient(domain: "slow.example.com", key: key, server: server, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for slow.example.com")
                        for mode in ["trickle", "idle"] {
                            let outcome = try await runCommand(["/usr/bin/python3", script, "slow.example.com", "\(server.httpsPort)", server.caFile, mode])
                            #expect(outcome.hasPrefix("closed after"), "\(mode): \(outcome)")
                        }
                        // A 2 s streaming response on a connection with a 1 s head timeout completes.
                        let stream = try await Gateway.curl(server, "slow.example.com", .http1, ["URL/chunked/40"])
                        #expect(stream == (0..<40).map { "chunk \($0)\n" }.joined())
                        #expect(try await Gateway.curl(server, "slow.example.com", .http1, ["URL/still"]) == "hello from backend GET /still")
                    }
                }
            }
        }
    }

    /// A server, a registered `domain`, a backend and a connected client.
    func withTunnel(
        domain: String, _ body: (GatewayProcesses.Server, _ backend: Int, _ client: ChildProcess) async throws -> Void
    ) async throws {
        try await Gateway.withTunnel(domain: domain, body)
    }
}
