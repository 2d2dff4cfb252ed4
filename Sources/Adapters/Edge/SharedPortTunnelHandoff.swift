public import GRPCNIOTransportHTTP2
public import NIOCore
import NIOPosix
import Synchronization

/// Hands the connections that negotiated ALPN `grpc-exp` on the public HTTPS port to a gRPC
/// server, so the tunnel endpoint shares that port with web traffic.
///
/// Pass it to ``PublicHTTPSServer`` and, as the `ListenerFactory` of an
/// `HTTP2ServerTransport.Custom`, to the gRPC server. The edge owns the listening socket: the gRPC
/// transport's "listening channel" is the edge's server channel, into whose pipeline (after the
/// accept handler) the configured tunnel connections are injected. See ../shared/RECIPES.md,
/// "One TLS port for web traffic and the gRPC tunnel", for why it is done this way.
public final class SharedPortTunnelHandoff: HTTP2ServerTransport.ListenerFactory {
    private struct Attached: Sendable {
        let configurator: HTTP2ServerTransport.ConnectionConfigurator
        let injector: NIOLoopBound<TunnelConnectionInjector>
    }

    /// The path prefix of the tunnel service's methods (`tunnel.proto`'s package and service):
    /// an `h2` connection whose first request is a gRPC call under it is a tunnel connection.
    public static let servicePath = "/hopgate.tunnel.v1.Tunnel/"

    private let bound: EventLoopPromise<any Channel>
    private let attached = Mutex<Attached?>(nil)

    public init() {
        bound = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: (any Channel).self)
    }

    public var eventLoopGroup: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Called by the gRPC transport when it starts: waits for the edge to bind, then returns the
    /// edge's server channel wrapped so that injected tunnel connections are its inbound.
    public func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let server = try await bound.futureResult.get()
        return try await server.eventLoop.flatSubmit {
            listenerConfigurator.configure(channel: server).flatMapThrowing {
                let passage = AcceptedSocketPassage()
                let injector = TunnelConnectionInjector(passage: passage)
                try server.pipeline.syncOperations.addHandler(injector)
                let channel = try NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never>(
                    wrappingChannelSynchronously: server)
                try server.pipeline.syncOperations.addHandler(passage)
                self.attached.withLock {
                    $0 = Attached(configurator: connectionConfigurator, injector: NIOLoopBound(injector, eventLoop: server.eventLoop))
                }
                return channel
            }
        }.get()
    }

    /// The edge bound its listening socket.
    func listenerBound(_ channel: any Channel) { bound.succeed(channel) }

    /// The edge could not bind; the gRPC transport's start fails with the same error.
    func listenerFailed(_ error: any Error) { bound.fail(error) }

    /// Configures `channel` (TLS done, `grpc-exp` negotiated) for gRPC and hands it over; closes
    /// it when no gRPC server is attached yet. Runs on the channel's event loop.
    func handOver(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let attached = attached.withLock({ $0 }) else {
            return channel.close()
        }
        return attached.configurator.configure(channel: channel, tls: .configured(requireALPN: false)).map { connection in
            attached.injector.eventLoop.execute {
                if !attached.injector.value.inject(connection) { channel.close(promise: nil) }
            }
        }
    }
}

/// Sits in the server channel's pipeline after the accept handler and the gRPC quiescing handler
/// and feeds configured tunnel connections to the gRPC transport's `NIOAsyncChannel` behind it.
///
/// Surprising but necessary: NIO registers an accepted socket only when it reaches the *end* of
/// the server channel's pipeline, and the `NIOAsyncChannel` handler would take an accepted socket
/// for a tunnel connection. So accepted sockets (web and tunnel alike, before TLS) skip the async
/// handler: they are fired on from ``AcceptedSocketPassage``, which sits after it.
final class TunnelConnectionInjector: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel

    private var context: ChannelHandlerContext?
    private let passage: AcceptedSocketPassage

    init(passage: AcceptedSocketPassage) { self.passage = passage }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        passage.fireAcceptedSocket(unwrapInboundIn(data))
    }

    /// - Returns: false when the listener is gone (the caller closes the connection).
    func inject(_ connection: HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel) -> Bool {
        guard let context, context.channel.isActive else { return false }
        context.fireChannelRead(wrapInboundOut(connection))
        context.fireChannelReadComplete()
        return true
    }
}

/// The last handler of the shared server channel: passes accepted sockets on to the channel
/// itself (which registers them) and drops the tunnel connections the `NIOAsyncChannel` handler
/// forwards after buffering them.
final class AcceptedSocketPassage: ChannelInboundHandler {
    typealias InboundIn = Any

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    /// Fires an accepted socket from here towards the end of the pipeline (closes it when the
    /// listener is being torn down).
    func fireAcceptedSocket(_ socket: any Channel) {
        guard let context else {
            socket.close(promise: nil)
            return
        }
        context.fireChannelRead(NIOAny(socket))
    }
}
