public import HopGateDomain
public import HopGatePorts
public import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
public import ServiceLifecycle

/// The public HTTPS listener: TLS 1.2+ with a certificate per SNI name, ALPN `h2` and `http/1.1`
/// for web traffic and — when a ``SharedPortTunnelHandoff`` is given — `grpc-exp` for tunnel
/// clients on the same port. Browsers and curl never offer `grpc-exp`, so they always get web
/// responses (HTTP/2 or HTTP/1.1), never gRPC.
public struct PublicHTTPSServer: Service {
    public let host: String
    public let port: Int
    private let certificates: EdgeCertificates
    private let defaultName: DomainName
    private let router: PublicRequestRouter
    private let tunnels: SharedPortTunnelHandoff?
    private let challenges: (any ChallengeResponder)?
    private let handshakeTimeout: TimeAmount
    private let requestHeadTimeout: TimeAmount
    private let requestLimits: HTTP1RequestLimits
    private let http2Settings: HTTP2ConnectionSettings
    private let connectionsPerAddress: ConnectionsPerAddress
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - defaultName: whose certificate is served to clients that send no server name.
    ///   - tunnels: hands `grpc-exp` connections to the tunnel's gRPC server; nil serves web only.
    ///   - challenges: answers ACME TLS-ALPN-01 validations (ALPN `acme-tls/1`); nil: none.
    ///   - handshakeTimeout: a connection that has not finished TLS by then is closed.
    ///   - requestHeadTimeout: an HTTP/1.1 connection without a complete request head this long
    ///     after opening or after its last response is closed (idle keep-alive, slowloris).
    ///   - connectionsPerAddress: counts open connections per client address (web and tunnel
    ///     alike, and plain HTTP when shared with ``PublicHTTPServer``); more are closed at once.
    ///     nil: no limit.
    public init(
        host: String, port: Int, certificates: any CertificateSource, defaultName: DomainName,
        router: PublicRequestRouter, tunnels: SharedPortTunnelHandoff?, challenges: (any ChallengeResponder)? = nil,
        handshakeTimeout: Duration = .seconds(10),
        requestHeadTimeout: Duration = .seconds(30), requestLimits: HTTP1RequestLimits = .init(),
        http2Settings: HTTP2ConnectionSettings = .init(), connectionsPerAddress: ConnectionsPerAddress? = nil,
        logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.certificates = EdgeCertificates(source: certificates)
        self.defaultName = defaultName
        self.router = router
        self.tunnels = tunnels
        self.challenges = challenges
        self.handshakeTimeout = TimeAmount(handshakeTimeout)
        self.requestHeadTimeout = TimeAmount(requestHeadTimeout)
        self.requestLimits = requestLimits
        self.http2Settings = http2Settings
        self.connectionsPerAddress = connectionsPerAddress ?? ConnectionsPerAddress(maximum: 0, logger: logger)
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the task is cancelled, or until a graceful shutdown (swift-service-lifecycle)
    /// has let every web connection finish its requests in flight: the listening socket closes
    /// at once, HTTP/1.1 connections close after their current response, HTTP/2 ones get GOAWAY.
    /// Tunnel connections on the shared port are not touched (the tunnel listener drains them).
    public func run() async throws {
        let context: NIOSSLContext
        let server: any Channel
        let (connections, sink) = AsyncStream.makeStream(of: WebConnection.self)
        let registry = ConnectionRegistry()
        do {
            context = try await makeTLSContext()
            let routing = ConnectionRouting(
                tunnels: tunnels, web: sink, registry: registry, requestHeadTimeout: requestHeadTimeout,
                requestLimits: requestLimits, http2Settings: http2Settings, logger: logger)
            let handshakeTimeout = self.handshakeTimeout
            let challenges = self.challenges
            let logger = self.logger
            let connectionsPerAddress = self.connectionsPerAddress
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    // Handlers only: deciding here (before the handshake) would deadlock.
                    channel.eventLoop.makeCompletedFuture {
                        guard connectionsPerAddress.admit(channel) else {
                            try channel.pipeline.syncOperations.addHandler(CloseOnActive())
                            return
                        }
                        if let challenges {
                            // Adds the TLS handler itself once it has seen the ClientHello.
                            try channel.pipeline.syncOperations.addHandler(
                                TLSALPNChallengeSwitch(regular: context, challenges: challenges, logger: logger))
                        } else {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        }
                        try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: handshakeTimeout))
                        try channel.pipeline.syncOperations.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                            routing.route(channel, negotiated: result)
                        })
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            sink.finish()
            tunnels?.listenerFailed(error)
            throw error
        }
        tunnels?.listenerBound(server)
        let boundPort = server.localAddress?.port ?? port
        await onListening(boundPort)
        logger.notice("public HTTPS listening", metadata: ["address": "\(host):\(boundPort)", "tunnels_on_this_port": "\(tunnels != nil)"])
        let router = self.router
        let logger = self.logger
        let handler: WebConnectionServing.RequestHandler = { request, peer, body, response in
            try await router.handle(request, peer: peer, scheme: "https", requestBody: body, response: response)
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    for await connection in connections {
                        group.addTask(executorPreference: connection.executor) {
                            await WebConnectionServing.serve(connection, handler: handler, logger: logger)
                        }
                    }
                }
            } onCancel: {
                server.close(promise: nil)
                sink.finish()
            }
        } onGracefulShutdown: {
            logger.notice("public HTTPS stops accepting; open connections finish their requests")
            server.close(promise: nil)
            sink.finish()
            registry.quiesceAll()
        }
    }

    /// The context's own certificate is only a placeholder: every handshake picks its certificate
    /// in `sslContextCallback` (the default name's when the client sends no SNI). A placeholder
    /// lets the listener start before the default name has a certificate — an ACME CA can only
    /// issue it once this listener and the port-80 one answer its challenges.
    private func makeTLSContext() async throws -> NIOSSLContext {
        let placeholder = try PlaceholderCertificate.make(for: defaultName)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: placeholder.override.certificateChain ?? [],
            privateKey: placeholder.override.privateKey!)
        EdgeTLSPolicy.apply(to: &configuration)
        configuration.applicationProtocols = (tunnels == nil ? [] : [ALPN.tunnel]) + [ALPN.http2, ALPN.http1]
        let certificates = self.certificates
        let defaultName = self.defaultName
        configuration.sslContextCallback = { values, promise in
            certificates.select(serverName: values.serverHostname, defaultName: defaultName, promise: promise)
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// ALPN protocol identifiers the edge offers.
enum ALPN {
    static let tunnel = "grpc-exp"
    static let http2 = "h2"
    static let http1 = "http/1.1"
}

/// Decides what a connection is once TLS is done, by the protocol ALPN chose.
struct ConnectionRouting: Sendable {
    let tunnels: SharedPortTunnelHandoff?
    let web: AsyncStream<WebConnection>.Continuation
    let registry: ConnectionRegistry
    let requestHeadTimeout: TimeAmount
    let requestLimits: HTTP1RequestLimits
    let http2Settings: HTTP2ConnectionSettings
    let logger: Logger

    func route(_ channel: any Channel, negotiated: ALPNResult) -> EventLoopFuture<Void> {
        let peer = WebConnectionServing.peer(of: channel)
        if case .negotiated(ALPN.tunnel) = negotiated, let tunnels {
            return tunnels.handOver(channel)  // drained by the tunnel listener, not quiesced here
        }
        if case .negotiated(ClientHelloPeek.acmeALPN) = negotiated {
            return channel.close()  // a TLS-ALPN-01 validation is over once the handshake is
        }
        switch negotiated {
        case .negotiated(ALPN.http2):
            guard let tunnels else { return configureWebHTTP2(channel, peer: peer) }
            // Any gRPC client offers `h2`; the first request tells a tunnel client from the web.
            return channel.eventLoop.makeCompletedFuture {
                let sniffer = SharedPortHTTP2Sniffer(servicePath: SharedPortTunnelHandoff.servicePath, deadline: requestHeadTimeout) { verdict, channel in
                    verdict == .tunnel ? tunnels.handOver(channel) : configureWebHTTP2(channel, peer: peer)
                }
                try channel.pipeline.syncOperations.addHandler(sniffer)
            }
        default:
            registry.add(channel)
            return channel.eventLoop.makeCompletedFuture {
                let connection = try HTTP1Pipeline.configure(
                    channel, secure: true, requestHeadTimeout: requestHeadTimeout, limits: requestLimits)
                try deliver(.http1(connection, peer: peer), closing: channel)
            }
        }
    }

    /// An HTTP/2 web connection: one request per stream.
    private func configureWebHTTP2(_ channel: any Channel, peer: PeerAddress) -> EventLoopFuture<Void> {
        registry.add(channel)
        let configuration = http2Settings.handlerConfiguration
        return channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // A stream's reset in a record of its own: see `HostileTunnelTests.brokenExchanges`.
            try pipeline.addHandler(FlushCoalescer(keepingHTTP2ResetsApart: true))
            try pipeline.addHandler(WebFrameAligner())
            let inbox = HTTP2StreamInbox(eventLoop: channel.eventLoop)
            _ = try pipeline.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: configuration.connection, streamConfiguration: configuration.stream
            ) { stream in
                do {
                    let end = HTTP2RequestEnd()
                    try stream.pipeline.syncOperations.addHandler(PublicHTTP2StreamCodec(end))
                    inbox.deliver(HTTP2WebStream(channel: try WebPartChannel(wrappingSynchronously: stream), requestEnd: end))
                    return stream.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return stream.eventLoop.makeFailedFuture(error)
                }
            }
            try pipeline.addHandler(HTTP2ConnectionErrorCloser())
            channel.closeFuture.whenComplete { _ in inbox.finish() }
            try deliver(.http2(inbox, connection: channel, peer: peer), closing: channel)
        }
    }

    private func deliver(_ connection: WebConnection, closing channel: any Channel) throws {
        if case .terminated = web.yield(connection) {
            channel.close(promise: nil)  // the edge is stopping
        }
    }
}

/// Closes a connection whose TLS handshake has not completed in time (a slow or silent client
/// must not hold a socket forever), then steps out of the pipeline.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Pass the event on first: once removed, this context no longer forwards anything.
        context.fireUserInboundEventTriggered(event)
        if case TLSUserEvent.handshakeCompleted = event {
            timer?.cancel()
            timer = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

extension TimeAmount {
    /// The same span as a `Duration`, to nanosecond precision.
    init(_ duration: Duration) {
        self = .nanoseconds(duration.nanoseconds)
    }
}
