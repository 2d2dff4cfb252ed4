import Foundation
import HopGateTestSupport
import Testing

/// HTTP/2 attacks with hand-written frames against a running `hopgate-server`: rapid reset
/// (CVE-2023-44487), a CONTINUATION flood (CVE-2024-27316) and pseudo-header abuse. Each ends
/// in GOAWAY or stream resets with no request forwarded, and the tunnel keeps serving.
@Suite("Hostile HTTP/2 clients")
struct HostileHTTP2Tests {
    typealias Gateway = GatewayProcesses

    @Test("rapid reset, CONTINUATION flood and bad pseudo-headers are cut off; the tunnel keeps serving; nothing leaks")
    func attacks() async throws {
        let script = fixtureScript("hostile_http2.py")
        let domain = "h2.example.com"
        try await Gateway.withTunnel(domain: domain) { server, _, _ in
            let pid = server.process.process.processIdentifier
            _ = try await Gateway.curl(server, domain, .http2, ["URL/warm-up"])
            let before = try ProcessFootprint(pid: pid)
            func attack(_ name: String) async throws -> [String: Any] {
                let output = try await runCommand(["python3", script, "\(server.httpsPort)", domain, server.caFile, name])
                return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            }
            for _ in 1...3 {
                // 1000 streams opened and reset at once: GOAWAY ENHANCE_YOUR_CALM (0xb) long before the end.
                let reset = try await attack("rapid_reset")
                #expect(reset["goaway_error"] as? Int == 0xB, "\(reset)")
                #expect(reset["closed"] as? Bool == true, "\(reset)")
                #expect((reset["response_headers"] as? Int ?? 0) < 1000, "\(reset)")

                // A header block that never ends: a connection error, not unbounded buffering.
                let flood = try await attack("continuation")
                #expect(flood["goaway_error"] as? Int != nil && flood["goaway_error"] as? Int != 0, "\(flood)")
                #expect(flood["closed"] as? Bool == true, "\(flood)")
                #expect(flood["response_headers"] as? Int == 0, "\(flood)")

                // A pseudo-header after a regular field, and a request without :path: never forwarded.
                let pseudo = try await attack("bad_pseudo")
                #expect(pseudo["response_headers"] as? Int == 0, "\(pseudo)")
                #expect((pseudo["stream_resets"] as? Int ?? 0) + (pseudo["goaway_error"] != nil ? 1 : 0) > 0, "\(pseudo)")

                #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
            }
            try await Task.sleep(for: .seconds(1))
            let after = try ProcessFootprint(pid: pid)
            #expect(after.descriptors <= before.descriptors + 8, "descriptors \(before.descriptors) → \(after.descriptors)")
            #expect(after.residentKiB <= before.residentKiB + 32 * 1024, "RSS \(before.residentKiB) → \(after.residentKiB) KiB")
        }
    }

    @Test("the HTTP/2 settings are announced as configured; a client over the stream limit loses its connection, others are served")
    func settingsAndStreamLimit() async throws {
        let script = fixtureScript("hostile_http2.py")
        let domain = "h2limits.example.com"
        let settings = ["HOP_SERVER_H2_MAX_STREAMS": "50", "HOP_SERVER_H2_WINDOW_BYTES": "262144", "HOP_SERVER_MAX_HEADER_BYTES": "32768"]
        try await Gateway.withTunnel(domain: domain, settings: settings) { server, _, _ in
            let output = try await runCommand(["python3", script, "\(server.httpsPort)", domain, server.caFile, "many_streams"])
            let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            // RFC 9113 §6.5.2: 3 = MAX_CONCURRENT_STREAMS, 4 = INITIAL_WINDOW_SIZE, 6 = MAX_HEADER_LIST_SIZE.
            let announced = try #require(result["settings"] as? [String: Int], "\(result)")
            #expect(announced["3"] == 50 && announced["4"] == 262_144 && announced["6"] == 32_768, "\(announced)")
            // 120 streams opened at once against a limit of 50. RFC 9113 §5.1.2 allows a stream error;
            // NIO ends the connection (GOAWAY PROTOCOL_ERROR = 1). No stream past the limit is served.
            #expect(result["goaway_error"] as? Int == 1, "\(result)")
            #expect(result["closed"] as? Bool == true, "\(result)")
            #expect((result["response_headers"] as? Int ?? 0) <= 50, "\(result)")
            #expect(try await Gateway.curl(server, domain, .http2, ["URL/after"]) == "hello from backend GET /after")
        }
    }
}
