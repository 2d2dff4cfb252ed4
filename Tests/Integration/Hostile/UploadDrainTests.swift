import Foundation
import HopGateTestSupport
import Testing

/// An HTTP/1.1 upload that gets an error page before its body was read: the edge reads at most
/// a bounded part of the rest (1 MiB, 2 s) to keep the connection, then closes it, instead of
/// taking in the whole body.
@Suite("Upload drain after an error page (server process)")
struct UploadDrainTests {
    typealias Gateway = GatewayProcesses

    func upload(_ server: Gateway.Server, _ mode: String) async throws -> [String: Any] {
        let output = try await runCommand(["python3", fixtureScript("upload_drain.py"), "\(server.httpsPort)", "hopgate.localhost", server.caFile, mode])
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    @Test("a fast 256 MiB upload is cut off after about 1 MiB; a slow one after about 2 s")
    func boundedDrain() async throws {
        try await withTemporaryDirectory { directory in
            try await Gateway.withServer(dataDirectory: directory) { server in
                let fast = try await upload(server, "fast")
                #expect(fast["status"] as? Int == 404, "\(fast)")
                #expect(fast["closed"] as? Bool == true, "\(fast)")
                // 1 MiB drained, plus what the socket buffers on both sides held.
                #expect((fast["sent"] as? Int ?? .max) < 32 << 20, "\(fast)")

                let slow = try await upload(server, "slow")
                #expect(slow["status"] as? Int == 404, "\(slow)")
                #expect(slow["closed"] as? Bool == true, "\(slow)")
                #expect((1.5...6).contains(slow["seconds"] as? Double ?? 0), "\(slow)")
            }
        }
    }
}
