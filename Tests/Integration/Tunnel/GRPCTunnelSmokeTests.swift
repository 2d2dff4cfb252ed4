import Foundation
import HTTPTypes
import HopGateDomain
import HopGateGRPCTransport
import HopGatePorts
import HopGateTestSupport
import NIOCore
import Testing

/// Answers every exchange with the request path and the size of its body.
struct PathEchoHandler: ExchangeHandler {
    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        var received = 0
        for try await part in requestBody {
            if case .body(let buffer) = part { received += buffer.readableBytes }
        }
        try await response.write(.head(HTTPResponse(status: .ok, headerFields: [.contentType: "text/plain"])))
        try await response.write(.body(ByteBuffer(string: "\(head.request.path ?? "") \(received)")))
        try await response.write(.end(nil))
    }
}

/// The gRPC transport end to end over a real loopback socket, with the real TunnelHub.
@Suite("gRPC tunnel transport")
struct GRPCTunnelSmokeTests {
    @Test("a client is admitted and serves exchanges; a wrong key is refused")
    func exchanges() async throws {
        try await withGRPCTunnelServer(domain: "grpc.example.com") { hub, key, port in
            let connector = GRPCTunnelConnector(host: "127.0.0.1", port: port, logger: quietLogger("client"))
            let refused = await #expect(throws: TunnelRefusal.self) {
                _ = try await connector.run(
                    hello: TunnelHello(domain: "grpc.example.com", clientAPIKey: ClientAPIKey.generate().secret, clientName: "t", clientVersion: "1"),
                    handler: PathEchoHandler(), onWelcome: { _ in })
            }
            #expect(refused?.code == .permissionDenied)  // the hub does not say whether the domain exists

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await connector.run(
                        hello: TunnelHello(domain: "grpc.example.com", clientAPIKey: key.secret, clientName: "t", clientVersion: "1"),
                        handler: PathEchoHandler(), onWelcome: { _ in })
                }
                defer { group.cancelAll() }
                let connection = try #require(try await openedTunnel(of: hub, for: "grpc.example.com"))
                let replies = try await withThrowingTaskGroup(of: String.self) { requests in
                    for index in 0..<50 {
                        requests.addTask {
                            let head = ExchangeRequestHead(request: HTTPRequest(method: .post, scheme: "https", authority: "grpc.example.com", path: "/r/\(index)"), requestID: "\(index)")
                            return try await connection.exchange(head) { requestBody, response in
                                try await requestBody.write(.body(ByteBuffer(repeating: 1, count: 1000 + index)))
                                try await requestBody.write(.end(nil))
                                var text = ""
                                for try await part in response {
                                    if case .body(let buffer) = part { text += String(buffer: buffer) }
                                }
                                return text
                            }
                        }
                    }
                    return try await requests.reduce(into: Set<String>()) { $0.insert($1) }
                }
                #expect(replies == Set((0..<50).map { "/r/\($0) \(1000 + $0)" }))
            }
        }
    }
}
