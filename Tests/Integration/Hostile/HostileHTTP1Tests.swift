import Foundation
import HopGateTestSupport
import Testing

/// A running `hopgate-server` with a live tunnel, attacked over TLS with malformed and smuggling
/// HTTP/1.1 requests (raw sockets, one connection each): every case gets the status RFC 9112 asks
/// for — or a closed connection — and afterwards the tunnel still serves, with the server's
/// descriptors and memory back within a small bound.
@Suite("Hostile HTTP/1.1 clients")
struct HostileHTTP1Tests {
    typealias Gateway = GatewayProcesses

    /// What each case must get: a status, the connection closed after it. A body that turns out
    /// malformed after its head was forwarded still gets 400 while no response has started.
    static let expected: [String: Int?] = [
        "content_length_and_chunked": 400, "two_content_lengths": 400, "chunked_not_last": 400,
        "unknown_transfer_coding": 501, "negative_content_length": 400, "signed_content_length": 400,
        "invalid_chunk_size": 400,
        "obs_fold": 400, "bare_cr": 400, "nul_in_header": 400, "space_before_colon": 400, "control_in_method": 400,
        "http_0_9": 400, "unknown_version": 400,
        "no_host": 400, "two_hosts": 400, "invalid_host": 400,
        "target_9k": 414, "header_fields_150": 431, "header_bytes_70k": 431, "head_over_80k": 431,
    ]

    @Test("malformed and smuggling requests get 400/414/431/501 or a close; the next request is served; nothing leaks")
    func malformed() async throws {
        let script = fixtureScript("hostile_http1.py")
        let domain = "app.example.com"
        try await Gateway.withTunnel(domain: domain) { server, _, _ in
            let pid = server.process.process.processIdentifier
            _ = try await Gateway.curl(server, domain, .http1, ["URL/warm-up"])
            let before = try ProcessFootprint(pid: pid)
            for round in 1...3 {
                let output = try await runCommand(["python3", script, "\(server.httpsPort)", domain, server.caFile])
                let results = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: Any]])
                for (name, status) in Self.expected {
                    let result = try #require(results[name], "no result for \(name)")
                    #expect(result["status"] as? Int == status, "round \(round), \(name): \(result)")
                    #expect(result["closed"] as? Bool == true, "round \(round), \(name) left the connection open: \(result)")
                }
                // Absolute-form targets are routed by their own authority, never by Host.
                #expect(results["absolute_form_foreign"]?["status"] as? Int == 404, "\(results["absolute_form_foreign"] ?? [:])")
                #expect(results["absolute_form_same"]?["status"] as? Int == 200, "\(results["absolute_form_same"] ?? [:])")
                #expect(try await Gateway.curl(server, domain, .http1, ["URL/after"]) == "hello from backend GET /after")
                #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
            }
            try await Task.sleep(for: .seconds(1))
            let after = try ProcessFootprint(pid: pid)
            #expect(after.descriptors <= before.descriptors + 8, "descriptors \(before.descriptors) → \(after.descriptors)")
            #expect(after.residentKiB <= before.residentKiB + 16 * 1024, "RSS \(before.residentKiB) → \(after.residentKiB) KiB")
            #expect(!server.process.output.contains("Fatal error"), "\(server.process.output.suffix(3000))")
        }
    }
}

/// Open descriptors and resident memory of a process, from /proc.
struct ProcessFootprint {
    let descriptors: Int
    let residentKiB: Int

    init(pid: Int32) throws {
        descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        residentKiB = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
