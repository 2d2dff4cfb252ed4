package import GRPCCore
import GRPCNIOTransportHTTP2
public import HopGatePorts
public import Logging

/// A ``TunnelListener`` that serves the tunnel protocol on a gRPC port of its own
/// (`HOP_TUNNEL_LISTEN`). The default deployment shares the public HTTPS port instead, mounting
/// ``GRPCTunnelService`` behind the edge's ALPN split; this listener is for that option and for
/// tests. Plaintext only for now: TLS comes from the edge.
public struct GRPCTunnelListener: TunnelListener {
    public let host: String
    public let port: Int
    private let logger: Logger
    private let heartbeatPoolSize: Int
    private let onListening: @Sendable (Int) async -> Void

    /// - Parameter onListening: told the bound port (useful with port 0).
    public init(host: String, port: Int, logger: Logger, exchangePoolSize: Int = 16, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.logger = logger
        self.heartbeatPoolSize = exchangePoolSize
        self.onListening = onListening
    }

    public func run(acceptor: any TunnelAcceptor) async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext)
        let service = GRPCTunnelService(acceptor: acceptor, logger: logger, exchangePoolSize: heartbeatPoolSize)
        let server = GRPCServer(transport: transport, services: [service])
        // Cancelling `serve()` directly can trap in NIO ("Deinited NIOAsyncWriter without calling
        // finish()", apple/swift-nio#3481) when a connection is accepted at that moment. So the
        // server runs in a task of its own that is always awaited, and cancellation of `run` is
        // turned into a graceful shutdown: stop accepting, close every tunnel, let RPCs end.
        let serving = Task { try await server.serve() }
        try await withTaskCancellationHandler {
            let address = try await transport.listeningAddress
            await onListening(address.ipv4?.port ?? port)
            try await serving.value
        } onCancel: {
            server.beginGracefulShutdown()
            service.closeAllTunnels()
        }
    }
}
