import NIOCore
import NIOHTTP1
import NIOPosix

/// The `--demo` backend: a loopback HTTP/1.1 server that answers every request with a short
/// bilingual greeting naming the method and path it received.
struct DemoBackend: Sendable {
    let port: BoundPort

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        port.bound(server.channel.localAddress?.port ?? 0)
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            group.addTask { try? await Self.serve(connection) }
                        }
                    } catch {}
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head): request = head
                case .body: continue
                case .end:
                    guard let head = request else { continue }
                    let text = """
                        Hello from the HopGate demo backend! You sent \(head.method) \(head.uri) through the tunnel.
                        HopGate 데모 백엔드입니다! 터널을 통해 \(head.method) \(head.uri) 요청을 받았습니다.

                        """
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                    headers.add(name: "Content-Length", value: "\(text.utf8.count)")
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
                    if head.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text)))) }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}
