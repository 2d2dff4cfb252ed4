import Foundation
import HopGateTestSupport
import Testing

/// Any gRPC implementation can be a tunnel client on the shared HTTPS port: Python's grpcio,
/// with stubs generated from `tunnel.proto` in the test, offers ALPN `h2` only (never
/// `grpc-exp`), and is still routed to the tunnel, while browsers' `h2` stays web traffic.
@Suite("Any gRPC client", .serialized)
struct AnyGRPCClientTests {
    typealias Gateway = GatewayProcesses

    /// Generates the Python stubs from the repository's `.proto` into `directory`.
    func generateStubs(in directory: String) async throws {
        _ = try await runCommand([
            try testPython(), "-m", "grpc_tools.protoc", "-I", repositoryRoot.appendingPathComponent("proto").path,
            "--python_out=\(directory)", "--grpc_python_out=\(directory)",
            repositoryRoot.appendingPathComponent("proto/hopgate/tunnel/v1/tunnel.proto").path,
        ])
    }

    /// A server in a temporary directory, and Python stubs generated from the `.proto` beside it.
    func withServerAndStubs(_ body: (_ server: Gateway.Server, _ stubs: String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let stubs = directory + "/stubs"
            try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
            try await generateStubs(in: stubs)
            try await Gateway.withServer(dataDirectory: directory + "/server") { server in try await body(server, stubs) }
        }
    }

    func client(_ stubs: String, _ server: Gateway.Server, domain: String, key: String) throws -> [String] {
        [fixtureScript("grpcio_tunnel_client.py"), stubs, "\(server.httpsPort)", server.caFile, "hopgate.localhost", domain, key]
    }

    @Test("a grpcio client over ALPN h2 is welcomed, parks an Exchange stream and answers a public request")
    func grpcioClientServesARequest() async throws {
        let domain = "grpcio.example.com"
        try await withServerAndStubs { server, stubs in
            let key = try await Gateway.register(domain, on: server)
            try await withChildProcess(try testPython(), try client(stubs, server, domain: domain, key: key)) { python in
                _ = try await python.waitForOutput(containing: "READY")
                let reply = try await Gateway.curl(server, domain, .http2, ["URL/from/curl?x=1"])
                #expect(reply == "served by grpcio /from/curl?x=1", "\(reply)\n\(python.output)")
                let report = try await python.waitForOutput(containing: "exchange_status")
                #expect(report.contains(#""exchange_status": "OK""#), "\(report)")
                #expect(report.contains(#""domain": "grpcio.example.com""#), "\(report)")
                // Browsers' h2 on the same port is still web traffic: the server's own site answers.
                let web = try await Gateway.curl(server, "hopgate.localhost", .http2, [
                    "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "URL/api/v1/admin/domains"])
                #expect(web == "2 401", "curl's h2 request reached the admin API: \(web)")
            }
        }
    }

    @Test("a grpcio client with a wrong key is refused with PERMISSION_DENIED")
    func grpcioClientWithAWrongKeyIsRefused() async throws {
        let domain = "grpcio-refused.example.com"
        try await withServerAndStubs { server, stubs in
            _ = try await Gateway.register(domain, on: server)
            let wrongKey = String(repeating: "A", count: 64)
            let output = try await runCommand([try testPython()] + (try client(stubs, server, domain: domain, key: wrongKey)))
            #expect(output.contains(#""refused": "PERMISSION_DENIED""#), "\(output)")
        }
    }
}
