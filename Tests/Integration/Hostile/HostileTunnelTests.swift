import Foundation
import GRPCCore
import HopGateGRPCTransport
import HopGateTestSupport
import SwiftProtobuf
import Synchronization
import Testing

/// Tunnel clients that break the protocol on purpose, against a running `hopgate-server` (its
/// plaintext tunnel port) while an honest client serves another domain: each is refused or cut
/// off with a status that names the problem, its public requests get 502/504, and the honest
/// tunnel never notices. No client ever receives a request for a domain it does not own.
@Suite("Hostile tunnel clients", .serialized)
struct HostileTunnelTests {
    typealias Gateway = GatewayProcesses
    typealias Rogue = RogueTunnelClient

    @Test("garbage, out-of-order and oversized control messages, a hello for another domain and forged attaches are refused; the honest tunnel keeps serving")
    func refusedBeforeAdmission() async throws {
        try await withGateway { server, tunnelPort, keys in
            try await Rogue.with(port: tunnelPort) { rogue in
                var heartbeat = Hopgate_Tunnel_V1_ControlFromClient()
                heartbeat.heartbeat = .init()
                let cases: [(String, [[UInt8]], RPCError.Code)] = [
                    ("garbage instead of a hello", [[0xff, 0xff, 0xff, 0xff, 0x0f]], .invalidArgument),
                    ("a heartbeat before the hello", [try heartbeat.serializedBytes()], .invalidArgument),
                    // Over gRPC's 4 MiB message limit: the transport resets the stream (the client sees
                    // "unavailable"); the service never sees the message.
                    ("a 5 MiB hello", [try Rogue.hello(domain: String(repeating: "a", count: 5 << 20), key: keys.rogue)], .unavailable),
                    ("a hello for the honest domain with the rogue's key", [try Rogue.hello(domain: "honest.example.com", key: keys.rogue)], .permissionDenied),
                    ("a hello for a name that is no domain", [try Rogue.hello(domain: "not a domain", key: keys.rogue)], .invalidArgument),
                ]
                for (name, messages, expected) in cases {
                    let outcome = try await rogue.call(Rogue.control, sending: messages)
                    #expect(outcome.code == expected, "\(name): \(outcome)")
                }
                let forged: [(String, [[UInt8]])] = [
                    ("an exchange without an attach", [try Rogue.fromClient(.end(.init()))]),
                    ("an attach to an unknown tunnel", [try Rogue.attach(tunnelID: UUID().uuidString, token: Data(count: 32))]),
                    ("garbage instead of an attach", [[0x0a, 0xff, 0xff]]),
                ]
                for (name, messages) in forged {
                    let outcome = try await rogue.call(Rogue.exchange, sending: messages)
                    #expect(outcome.code != nil && outcome.received.isEmpty, "\(name): \(outcome)")
                }
                // Admitted for its own domain, the rogue cannot attach with another token.
                try await rogue.admitted(domain: "rogue.example.com", key: keys.rogue) { welcome in
                    let outcome = try await rogue.call(Rogue.exchange, sending: [try Rogue.attach(tunnelID: welcome.tunnelID, token: Data(count: 32))])
                    #expect(outcome.code == .permissionDenied, "\(outcome)")
                }
            }
            #expect(try await Gateway.curl(server, "honest.example.com", .http2, ["URL/after"]) == "hello from backend GET /after")
            #expect(!server.process.output.contains("Fatal error"))
        }
    }

    @Test(
        "an admitted client that breaks its exchanges costs only its own requests (502) and never gets another domain's; the honest tunnel keeps serving",
        arguments: [[], [Rogue.exchangeReuse]])
    func brokenExchanges(capabilities: [String]) async throws {
        try await withGateway { server, tunnelPort, keys in
            try await Rogue.with(port: tunnelPort) { rogue in
                try await rogue.admitted(domain: "rogue.example.com", key: keys.rogue, capabilities: capabilities) { welcome in
                    let attach = try Rogue.attach(tunnelID: welcome.tunnelID, token: welcome.exchangeToken)
                    let ok = Hopgate_Tunnel_V1_ResponseHead.with { $0.status = 200 }
                    let cases: [(String, [[UInt8]], expected: Int)] = [
                        ("a body before the head", [try Rogue.fromClient(.body(.with { $0.data = Data("x".utf8) })), try Rogue.fromClient(.end(.init()))], 502),
                        ("status 42", [try Rogue.fromClient(.head(.with { $0.status = 42 })), try Rogue.fromClient(.end(.init()))], 502),
                        ("a header name with a space", [try Rogue.fromClient(.head(.with {
                            $0.status = 200; $0.headers = [.with { $0.name = "bad name"; $0.value = Data("1".utf8) }]
                        })), try Rogue.fromClient(.end(.init()))], 502),
                        ("a pseudo-header", [try Rogue.fromClient(.head(.with {
                            $0.status = 200; $0.headers = [.with { $0.name = ":status"; $0.value = Data("204".utf8) }]
                        })), try Rogue.fromClient(.end(.init()))], 502),
                        ("garbage bytes", [[0xff, 0xff, 0xff, 0xff, 0x0f]], 502),
                        ("a 5 MiB message", [try Rogue.fromClient(.body(.with { $0.data = Data(count: 5 << 20) }))], 502),
                        ("a second attach", [attach], 502),
                        ("the stream ended without a response", [], 502),
                        ("a failure", [try Rogue.fromClient(.failure(.with { $0.message = "boom" }))], 502),
                        ("a head, then garbage", [try Rogue.fromClient(.head(ok)), [0xff, 0xff, 0xff, 0xff, 0x0f]], 200),
                    ]
                    for (name, misbehaviour, expected) in cases {
                        let requested = RequestLog()
                        async let exchange = rogue.exchange(Rogue.exchange, first: [attach], patience: .seconds(30)) { bytes in
                            guard let message = try? Hopgate_Tunnel_V1_ExchangeFromServer(serializedBytes: bytes),
                                  case .head(let head)? = message.kind else { return nil }
                            requested.record(head.authority)
                            return (misbehaviour, true)
                        }
                        let outcome = try await CurlOutcome.run(server, "rogue.example.com", .http2, "/\(name.count)")
                        let ended = try await exchange
                        if expected == 200 {
                            // The head was through: the body is cut and curl knows it.
                            #expect(outcome.status == 200 && outcome.exitCode != 0, "\(name): \(outcome)")
                        } else {
                            #expect(outcome.status == expected, "\(name): \(outcome), exchange \(ended)")
                        }
                        #expect(requested.authorities.allSatisfy { $0.hasPrefix("rogue.example.com") }, "\(name): \(requested.authorities)")
                        #expect(try await Gateway.curl(server, "honest.example.com", .http1, ["URL/between"]) == "hello from backend GET /between",
                                "after \(name)")
                    }
                }
            }
            #expect(!server.process.output.contains("Fatal error"))
        }
    }

    @Test(
        "an admitted client that never reads its exchange streams: its requests end in 504, uploads are held back, the honest tunnel keeps serving",
        arguments: [[], [Rogue.exchangeReuse]])
    func neverReads(capabilities: [String]) async throws {
        try await withGateway(settings: ["HOP_PROXY_TIMEOUT": "2s"]) { server, tunnelPort, keys in
            let upload = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/hopgate-never-reads-\(UUID().uuidString)"
            try await runCommand(["truncate", "-s", "\(64 << 20)", upload])
            defer { try? FileManager.default.removeItem(atPath: upload) }
            // The rogue talks through a proxy that stops reading from the server once the tunnel is
            // up: its TCP receive buffer and every HTTP/2 window fill and stay full.
            let script = fixtureScript("stall_proxy.py")
            let portFile = upload + ".port"
            defer { try? FileManager.default.removeItem(atPath: portFile) }
            try await withChildProcess("/usr/bin/env", ["python3", script, portFile, "\(tunnelPort)"]) { proxy in
            var proxyPort: Int?
            for _ in 0..<200 where proxyPort == nil {
                proxyPort = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
                if proxyPort == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            try await Rogue.with(port: try #require(proxyPort)) { rogue in
                try await rogue.admitted(domain: "rogue.example.com", key: keys.rogue, capabilities: capabilities) { welcome in
                    let attach = try Rogue.attach(tunnelID: welcome.tunnelID, token: welcome.exchangeToken)
                    proxy.send(SIGUSR1)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        defer { group.cancelAll() }
                        let pid = server.process.process.processIdentifier
                        var footprints: [ProcessFootprint] = []
                        for round in 1...3 {
                            // Attached streams whose messages are never read (nor answered).
                            for _ in 0..<4 {
                                group.addTask { _ = try await rogue.ignoring(Rogue.exchange, first: [attach]) }
                            }
                            let outcomes = try await withThrowingTaskGroup(of: CurlOutcome.self) { requests in
                                for index in 0..<4 {
                                    requests.addTask {
                                        index % 2 == 0
                                            ? try await CurlOutcome.run(server, "rogue.example.com", .http2, "/get")
                                            : try await CurlOutcome.run(server, "rogue.example.com", .http2, "/put", ["-T", upload])
                                    }
                                }
                                return try await requests.reduce(into: []) { $0.append($1) }
                            }
                            for outcome in outcomes {
                                #expect(outcome.status == 504, "round \(round): \(outcome)")
                                // Held back by flow control: the edge took about the rogue's own stream
                                // window (gRPC's default, 8 MiB) of each upload, plus what the HTTP/2
                                // stacks queue on the way (8.6–13 MB measured), not 64 MiB.
                                #expect(outcome.uploaded <= 16 << 20, "round \(round): \(outcome)")
                            }
                            footprints.append(try ProcessFootprint(pid: pid))
                        }
                        // Measured from the end of the first round (allocator warm-up): repeating the
                        // attack does not grow the server.
                        #expect(footprints[2].residentKiB <= footprints[0].residentKiB + 16 * 1024, "RSS \(footprints.map(\.residentKiB)) KiB")
                        #expect(footprints[2].descriptors <= footprints[0].descriptors + 8, "descriptors \(footprints.map(\.descriptors))")
                        #expect(try await Gateway.curl(server, "honest.example.com", .http2, ["URL/during"]) == "hello from backend GET /during")
                    }
                }
            }
            }
        }
    }

    @Test("a tunnel connection opening more streams than HOP_TUNNEL_MAX_STREAMS loses it (GOAWAY) before any hello; the honest tunnel keeps serving")
    func streamLimit() async throws {
        let script = fixtureScript("hostile_http2.py")
        try await withGateway(settings: ["HOP_TUNNEL_MAX_STREAMS": "32"]) { server, tunnelPort, _ in
            // 120 streams opened at once on the plaintext tunnel port, none of them a valid call.
            let output = try await runCommand(["python3", script, "\(tunnelPort)", "tunnel", "-", "many_streams"])
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let announced = try #require(result["settings"] as? [String: Int], "\(result)")
            #expect(announced["3"] == 32, "MAX_CONCURRENT_STREAMS: \(announced)")
            #expect(result["goaway_error"] as? Int == 1 && result["closed"] as? Bool == true, "\(result)")
            #expect(try await Gateway.curl(server, "honest.example.com", .http2, ["URL/after"]) == "hello from backend GET /after")
        }
    }

    /// A server with a plaintext tunnel port, `honest.example.com` served by a real client, and
    /// `rogue.example.com` registered for the rogue (its key passed).
    private func withGateway(
        settings: [String: String] = [:],
        _ body: (Gateway.Server, _ tunnelPort: Int, _ keys: (rogue: String, honest: String)) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            try await withTestBackend { backend in
                try await Gateway.withServer(dataDirectory: directory, extraArguments: ["--tunnel-listen", "127.0.0.1:0"], settings: settings) { server in
                    let tunnelPort = try Gateway.plaintextTunnelPort(of: server)
                    let honest = try await Gateway.register("honest.example.com", on: server)
                    let rogue = try await Gateway.register("rogue.example.com", on: server)
                    try await Gateway.withPlaintextClient(domain: "honest.example.com", key: honest, tunnelPort: tunnelPort, backend: backend) { client in
                        _ = try await client.waitForOutput(containing: "tunnel up for honest.example.com")
                        try await body(server, tunnelPort, (rogue, honest))
                        #expect(client.process.isRunning && !client.output.contains("tunnel down"), "\(client.output.suffix(2000))")
                    }
                }
            }
        }
    }
}

/// The authorities of the requests a rogue received.
private final class RequestLog: Sendable {
    private let storage = Mutex<[String]>([])
    func record(_ authority: String) { storage.withLock { $0.append(authority) } }
    var authorities: [String] { storage.withLock { $0 } }
}
