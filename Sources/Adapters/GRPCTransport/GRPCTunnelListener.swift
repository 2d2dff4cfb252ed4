import GRPCCore
public import GRPCNIOTransportHTTP2
public import HopGatePorts
public import Logging

/// A ``TunnelListener`` serving the tunnel protocol over gRPC, either on the public HTTPS port
/// (connections handed over by the edge after ALPN chose `grpc-exp`; the default) or on a port of
/// its own (`HOP_TUNNEL_LISTEN`; plaintext, for a TLS-terminating proxy in front, and tests).
public struct GRPCTunnelListener: TunnelListener {
    private enum Endpoint: Sendable {
        case port(host: String, port: Int)
        case shared(any HTTP2ServerTransport.ListenerFactory)
    }

    private let endpoint: Endpoint
    private let logger: Logger
    private let exchangePoolSize: Int
    private let maximumStreams: Int
    private let onListening: @Sendable (Int) async -> Void

    /// The default of `maximumStreams`: HTTP/2 streams one tunnel connection may have open at once
    /// (its control stream, its idle exchange streams and one per request in flight).
    public static let defaultMaximumStreams = 1024

    /// A plaintext gRPC listener on a port of its own.
    /// - Parameters:
    ///   - maximumStreams: announced as `SETTINGS_MAX_CONCURRENT_STREAMS`; a connection opening
    ///     more loses it (`GOAWAY`), before or after its hello. Must exceed `exchangePoolSize`.
    ///   - onListening: told the bound port (useful with port 0).
    public init(
        host: String, port: Int, logger: Logger, exchangePoolSize: Int = 16, maximumStreams: Int = Self.defaultMaximumStreams,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.endpoint = .port(host: host, port: port)
        self.logger = logger
        self.exchangePoolSize = exchangePoolSize
        self.maximumStreams = maximumStreams
        self.onListening = onListening
    }

    /// A listener whose connections come from `listenerFactory` (the edge's shared-port
    /// handoff, which has already done TLS).
    public init(
        sharing listenerFactory: some HTTP2ServerTransport.ListenerFactory, logger: Logger, exchangePoolSize: Int = 16,
        maximumStreams: Int = Self.defaultMaximumStreams
    ) {
        self.endpoint = .shared(listenerFactory)
        self.logger = logger
        self.exchangePoolSize = exchangePoolSize
        self.maximumStreams = maximumStreams
        self.onListening = { _ in }
    }

    public func run(acceptor: any TunnelAcceptor) async throws {
        let service = GRPCTunnelService(acceptor: acceptor, logger: logger, exchangePoolSize: exchangePoolSize)
        switch endpoint {
        case .port(let host, let port):
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: host, port: port), transportSecurity: .plaintext,
                config: .defaults {
                    $0.http2.targetWindowSize = TunnelHTTP2Settings.edgeWindowBytes
                    $0.http2.maxConcurrentStreams = maximumStreams
                    $0.connection.flushCoalescing = nil  // see TunnelHTTP2Settings
                    $0.channelDebuggingCallbacks.onAcceptHTTP2Stream = { ExchangeStreamHandler.install(on: $0, service: service) }
                    $0.channelDebuggingCallbacks.onAcceptTCPConnection = TunnelFrameAligner.installOnServer
                })
            try await serve(transport, service: service) {
                let address = try await transport.listeningAddress
                await onListening(address.ipv4?.port ?? port)
            }
        case .shared(let factory):
            try await serveShared(factory, service: service)
        }
    }

    /// Opens the existential: `Custom` is generic over its factory's concrete type.
    ///
    /// The edge owns the shared port: when it closes it (its graceful shutdown comes first), the
    /// gRPC server ends too — returning, or throwing about the closed channel. That is not a
    /// failure of this service, so it then waits until it is itself cancelled (a service that
    /// ends early would stop the whole server with an error).
    private func serveShared<Factory: HTTP2ServerTransport.ListenerFactory>(_ factory: Factory, service: GRPCTunnelService) async throws {
        do {
            var config = HTTP2ServerTransport.Custom<Factory>.Config.defaults
            config.http2.targetWindowSize = TunnelHTTP2Settings.edgeWindowBytes
            config.http2.maxConcurrentStreams = maximumStreams
            config.connection.flushCoalescing = nil  // see TunnelHTTP2Settings
            config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { ExchangeStreamHandler.install(on: $0, service: service) }
            config.channelDebuggingCallbacks.onAcceptTCPConnection = TunnelFrameAligner.installOnServer
            try await serve(HTTP2ServerTransport.Custom(listenerFactory: factory, config: config), service: service) {}
        } catch {
            logger.debug("the shared tunnel listener ended with the HTTPS port", metadata: ["error": "\(error)"])
        }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    private func serve<Transport: ServerTransport>(
        _ transport: Transport, service: GRPCTunnelService, whenListening: () async throws -> Void
    ) async throws {
        let server = GRPCServer(transport: transport, services: [service])
        // Cancelling `serve()` directly can trap in NIO ("Deinited NIOAsyncWriter without calling
        // finish()", apple/swift-nio#3481) when a connection is accepted at that moment. So the
        // server runs in a task of its own that is always awaited, and cancellation of `run` is
        // turned into a graceful shutdown: stop accepting, close every tunnel, let RPCs end.
        let serving = Task { try await server.serve() }
        try await withTaskCancellationHandler {
            try await whenListening()
            try await serving.value
        } onCancel: {
            server.beginGracefulShutdown()
            service.closeAllTunnels()
        }
    }
}
