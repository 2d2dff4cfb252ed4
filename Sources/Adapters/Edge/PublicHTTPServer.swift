import HTTPTypes
public import HopGatePorts
public import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
public import ServiceLifecycle

/// The public plain-HTTP listener (port 80): HTTP/1.1 with keep-alive. It answers ACME HTTP-01
/// challenges and, by its ``PlainHTTPPolicy``, redirects to HTTPS or proxies through the
/// ``PublicRequestRouter`` (bodies streamed under the socket's back-pressure).
///
/// ``PublicHTTPSServer`` is the TLS listener.
public struct PublicHTTPServer: Service {
    public let host: String
    public let port: Int
    private let responder: PlainHTTPResponder
    private let requestHeadTimeout: TimeAmount
    private let requestLimits: HTTP1RequestLimits
    private let connectionsPerAddress: ConnectionsPerAddress
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - challenges: answers `/.well-known/acme-challenge/`; nil answers 404 there.
    ///   - requestHeadTimeout: see ``PublicHTTPSServer``.
    ///   - connectionsPerAddress: see ``PublicHTTPSServer``; pass the same instance to both
    ///     listeners so that an address's limit covers both ports. nil: no limit.
    public init(
        host: String, port: Int, router: PublicRequestRouter, policy: PlainHTTPPolicy, challenges: (any ChallengeResponder)?,
        requestHeadTimeout: Duration = .seconds(30), requestLimits: HTTP1RequestLimits = .init(),
        connectionsPerAddress: ConnectionsPerAddress? = nil, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.responder = PlainHTTPResponder(policy: policy, challenges: challenges, router: router)
        self.requestHeadTimeout = TimeAmount(requestHeadTimeout)
        self.requestLimits = requestLimits
        self.connectionsPerAddress = connectionsPerAddress ?? ConnectionsPerAddress(maximum: 0, logger: logger)
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the task is cancelled.
    /// Serves until cancelled, or until a graceful shutdown has let open connections finish.
    public func run() async throws {
        let registry = ConnectionRegistry()
        let requestHeadTimeout = self.requestHeadTimeout
        let requestLimits = self.requestLimits
        let connectionsPerAddress = self.connectionsPerAddress
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    registry.add(channel)
                    if !connectionsPerAddress.admit(channel) {
                        // Still configured (the accept loop expects an HTTP channel), but closed
                        // as soon as it is active: its serving loop sees the end at once.
                        try channel.pipeline.syncOperations.addHandler(CloseOnActive())
                    }
                    return try HTTP1Pipeline.configure(
                        channel, secure: false, requestHeadTimeout: requestHeadTimeout, limits: requestLimits)
                }
            }
        await onListening(server.channel.localAddress?.port ?? port)
        logger.notice("public HTTP listening", metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"])
        let responder = self.responder
        let logger = self.logger
        let handler: WebConnectionServing.RequestHandler = { request, peer, body, response in
            try await responder.handle(request, peer: peer, requestBody: body, response: response)
        }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await server.executeThenClose { connections in
                    await withDiscardingTaskGroup { group in
                        do {
                            for try await connection in connections {
                                group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                                    await WebConnectionServing.serveRequests(
                                        on: connection, handler: handler, peer: WebConnectionServing.peer(of: connection.channel), logger: logger)
                                }
                            }
                        } catch {
                            logger.debug("listener ended", metadata: ["error": "\(error)"])
                        }
                    }
                }
            } onCancel: {
                // Closing the listening socket ends the accept loop without cancelling a
                // half-accepted connection (see apple/swift-nio#3481).
                server.channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            registry.quiesceAll()
        }
    }
}
