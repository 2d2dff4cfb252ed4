import Foundation
import HopGateTestSupport
import Testing

/// Processes killed with SIGKILL in the middle of traffic: what the public client sees (a prompt
/// end, never a hang or a truncated body passed off as complete), what the server logs, and that
/// everything serves again once the process is back.
@Suite("Processes killed mid-traffic", .serialized)
struct ProcessKillTests {
    typealias Gateway = GatewayProcesses

    /// Large enough that no transfer finishes before the kill (curl is rate-limited to 4 MiB/s).
    static let transferBytes = 512 << 20

    /// How long a download limited to 4 MiB/s (`--limit-rate 4M`) may still be reading, after a
    /// kill `readingFor` into it, what had already reached curl's socket before the transfer
    /// could end: the kernel's receive buffer grows up to `tcp_rmem`'s maximum (32 MiB on these
    /// machines), and curl drains it at its rate before it sees the close. A transfer that
    /// received `outcome.bytes` in all read for at least that long at that rate. Measured once:
    /// 20.8 MB received, the kill 1.5 s in, curl done 3.5 s after it.
    static func drainTime(of outcome: CurlOutcome, readingFor: Duration) -> Duration {
        max(.zero, .seconds(Double(outcome.bytes) / Double(4 << 20)) - readingFor)
    }

    @Test("the client killed during a download and during an upload: the public client's transfer ends at once and is marked failed; a new client serves")
    func clientKilled() async throws {
        try await withTemporaryDirectory { directory in
            let upload = directory + "/upload.bin"
            try await runCommand(["truncate", "-s", "\(Self.transferBytes)", upload])
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory + "/server") { server in
                    let domain = "kill.example.com"
                    let key = try await Gateway.register(domain, on: server)
                    let pid = server.process.process.processIdentifier
                    var baseline: ProcessFootprint?
                    for version in Gateway.HTTPVersion.allCases {
                        for direction in ["download", "upload"] {
                            try await Gateway.withClient(domain: domain, key: key, server: server, backend: backend) { client in
                                _ = try await client.waitForOutput(containing: "tunnel up for \(domain)")
                                if baseline == nil {
                                    _ = try await Gateway.curl(server, domain, version, ["URL/warm-up"])
                                    baseline = try ProcessFootprint(pid: pid)
                                }
                                let closedBefore = server.process.output.components(separatedBy: "tunnel closed").count
                                let started = ContinuousClock.now
                                async let transfer = direction == "download"
                                    ? CurlOutcome.run(server, domain, version, "/bytes/\(Self.transferBytes)", ["--limit-rate", "4M"])
                                    : CurlOutcome.run(server, domain, version, "/sha256", ["--limit-rate", "4M", "-T", upload])
                                try await Task.sleep(for: .milliseconds(1500))
                                client.send(SIGKILL)
                                let killed = ContinuousClock.now
                                let outcome = try await transfer
                                let context = "\(version) \(direction): \(outcome)"
                                #expect(ContinuousClock.now - killed < Self.drainTime(of: outcome, readingFor: killed - started) + .seconds(3), "\(context)")
                                if direction == "download" {
                                    // The head was through: the body is cut short and curl knows it.
                                    #expect(outcome.status == 200 && outcome.exitCode != 0 && outcome.bytes < Self.transferBytes, "\(context)")
                                } else {
                                    // No response yet: the edge answers 502 (HTTP/1.1 may lose it to the
                                    // close that stops the rest of the upload; curl then reports the failure).
                                    #expect(outcome.status == 502 || (version == .http1 && outcome.exitCode != 0), "\(context)")
                                }
                                for _ in 0..<100 where server.process.output.components(separatedBy: "tunnel closed").count == closedBefore {
                                    try await Task.sleep(for: .milliseconds(50))
                                }
                                #expect(server.process.output.components(separatedBy: "tunnel closed").count > closedBefore, "no 'tunnel closed' in the log")
                            }
                        }
                    }
                    try await Gateway.withClient(domain: domain, key: key, server: server, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for \(domain)")
                        #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
                        let digest = try await Gateway.curl(server, domain, .http1, ["-T", upload, "URL/sha256"])
                        #expect(digest.count == 64, "\(digest)")
                    }
                    try await Task.sleep(for: .seconds(1))
                    let before = try #require(baseline), after = try ProcessFootprint(pid: pid)
                    #expect(after.descriptors <= before.descriptors + 8, "descriptors \(before.descriptors) → \(after.descriptors)")
                    #expect(after.residentKiB <= before.residentKiB + 32 * 1024, "RSS \(before.residentKiB) → \(after.residentKiB) KiB")
                }
            }
        }
    }

    @Test("the server killed during a download: the transfer fails at once; restarted on its data, the client reconnects by itself and serves")
    func serverKilled() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                let port = try freeLoopbackPort()
                let domain = "restart.example.com"
                let key = try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                    try await Gateway.register(domain, on: server)
                }
                try await Gateway.withClient(domain: domain, key: key, httpsPort: port, caFile: directory + "/ca/ca.pem", backend: backend) { client in
                    try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                        _ = try await client.waitForOutput(containing: "tunnel up", timeout: .seconds(30))
                        let started = ContinuousClock.now
                        async let transfer = CurlOutcome.run(server, domain, .http2, "/bytes/\(Self.transferBytes)", ["--limit-rate", "4M"])
                        try await Task.sleep(for: .milliseconds(1500))
                        server.process.send(SIGKILL)
                        let killed = ContinuousClock.now
                        let outcome = try await transfer
                        #expect(ContinuousClock.now - killed < Self.drainTime(of: outcome, readingFor: killed - started) + .seconds(3), "\(outcome)")
                        #expect(outcome.status == 200 && outcome.exitCode != 0 && outcome.bytes < Self.transferBytes, "\(outcome)")
                    }
                    _ = try await client.waitForOutput(containing: "tunnel down", timeout: .seconds(10))
                    let upBefore = client.output.components(separatedBy: "tunnel up").count
                    try await Gateway.withServer(dataDirectory: directory, httpsPort: port) { server in
                        for _ in 0..<300 where client.output.components(separatedBy: "tunnel up").count == upBefore {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        #expect(client.output.components(separatedBy: "tunnel up").count == upBefore + 1, "\(client.output.suffix(2000))")
                        #expect(try await Gateway.curl(server, domain, .http1, ["URL/back"]) == "hello from backend GET /back")
                    }
                }
            }
        }
    }
}
