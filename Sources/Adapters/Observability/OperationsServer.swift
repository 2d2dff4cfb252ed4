public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The operator's listener (`HOP_METRICS_LISTEN`, loopback by default, never the public port):
///
/// - `GET /metrics`: Prometheus text format from the ``PrometheusExporter``;
/// - `GET /healthz`: 200 while the process serves at all (liveness);
/// - `GET /readyz`: 200 when every readiness check passes, else 503 naming the ones that fail.
public struct OperationsServer: Service {
    /// One readiness condition: a name for the report and whether it holds now.
    public struct Check: Sendable {
        public let name: String
        public let isReady: @Sendable () async -> Bool
        public init(name: String, isReady: @escaping @Sendable () async -> Bool) {
            self.name = name
            self.isReady = isReady
        }
    }

    public let host: String
    public let port: Int
    private let exporter: PrometheusExporter
    private let checks: [Check]
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    public init(
        host: String, port: Int, exporter: PrometheusExporter, checks: [Check], logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.exporter = exporter
        self.checks = checks
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the task is cancelled or a graceful shutdown (swift-service-lifecycle) begins.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await listen() }
    }

    private func listen() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        await onListening(server.channel.localAddress?.port ?? port)
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            group.addTask { await serve(connection) }
                        }
                    } catch {
                        logger.debug("operations listener ended", metadata: ["error": "\(error)"])
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await part in inbound {
                    guard case .head(let request) = part else { continue }
                    let (status, contentType, body) = await answer(request)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    headers.add(name: "Cache-Control", value: "no-store")
                    try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                    if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                    try await outbound.write(.end(nil))
                }
            }
        } catch {
            logger.debug("operations connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ request: HTTPRequestHead) async -> (HTTPResponseStatus, String, String) {
        guard request.method == .GET || request.method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", "GET only\n")
        }
        switch request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "" {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", exporter.render())
        case "/healthz":
            return (.ok, "text/plain; charset=utf-8", "ok\n")
        case "/readyz":
            var failing: [String] = []
            for check in checks where !(await check.isReady()) { failing.append(check.name) }
            return failing.isEmpty
                ? (.ok, "text/plain; charset=utf-8", "ready\n")
                : (.serviceUnavailable, "text/plain; charset=utf-8", "not ready: \(failing.joined(separator: ", "))\n")
        default:
            return (.notFound, "text/plain; charset=utf-8", "not found; try /metrics, /healthz or /readyz\n")
        }
    }
}
