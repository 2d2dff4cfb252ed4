import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import HopGateDomain
public import HopGatePorts
public import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// The client side of the tunnel protocol: one Control stream, plus a pool of pre-opened
/// Exchange streams that it tops up as requests take them, each served concurrently. The pool
/// follows demand (``ExchangePoolSizing``): two idle streams on a tunnel that has not been busy,
/// growing with the requests taken up to the server's `exchange_pool_size`. The client offers
/// `exchange-reuse`, `coalesced-parts` and `request-end-in-head`; when the server accepts them,
/// a stream carries one exchange after another, and a small response, like a bodiless request,
/// goes as one message.
///
/// grpc-swift's client transport makes the connection and serves the Control stream. Reusable
/// Exchange streams are opened on that connection by the connector itself and served by a
/// channel handler each (``ClientExchangeStreamHandler``); version 1 streams, for a server that
/// does not reuse them, go through grpc-swift's client calls.
public struct GRPCTunnelConnector: TunnelConnector {
    /// Misbehaviour to inject, for tests of the server's fault handling only.
    public struct Faults: Sendable {
        /// The client sends no heartbeats (the server must notice).
        public var stopsAnsweringHeartbeats: Bool
        /// The client offers no capabilities, as a plain version 1 client (one exchange per stream).
        public var offersNoCapabilities: Bool
        public init(stopsAnsweringHeartbeats: Bool = false, offersNoCapabilities: Bool = false) {
            self.stopsAnsweringHeartbeats = stopsAnsweringHeartbeats
            self.offersNoCapabilities = offersNoCapabilities
        }
    }

    /// How the connection to the server is secured.
    public enum Security: Sendable {
        /// No TLS (a separate plaintext tunnel port, or tests).
        case plaintext
        /// TLS, offering ALPN `grpc-exp` so the server's shared HTTPS port routes the connection to
        /// the tunnel. `serverName` is sent as SNI and must match the server's certificate, which
        /// is verified against the PEM roots in `caFile`, or the system's roots when nil.
        case tls(serverName: String, caFile: String?)
    }

    public let host: String
    public let port: Int
    private let security: Security
    private let logger: Logger
    private let faults: Faults

    public init(host: String, port: Int, security: Security = .plaintext, logger: Logger, faults: Faults = .init()) {
        self.host = host
        self.port = port
        self.security = security
        self.logger = logger
        self.faults = faults
    }

    /// The transport of one tunnel, whose connection lives on `loop`.
    private func makeTransport(connection: ClientTunnelConnection, on loop: any EventLoop) throws -> HTTP2ClientTransport.Posix {
        let onCreateTCPConnection: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            connection.connectionCreated(channel)
            return TunnelFrameAligner.installOnClient(channel)
        }
        switch security {
        case .plaintext:
            return try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port), transportSecurity: .plaintext,
                config: .defaults {
                    $0.http2.targetWindowSize = TunnelHTTP2Settings.clientWindowBytes
                    $0.connection.flushCoalescing = nil  // see TunnelHTTP2Settings
                    $0.channelDebuggingCallbacks.onCreateHTTP2Stream = DataFrameCopier.install(on:)
                    $0.channelDebuggingCallbacks.onCreateTCPConnection = onCreateTCPConnection
                },
                eventLoopGroup: loop)
        case .tls(let serverName, let caFile):
            return try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port),
                transportSecurity: .tls { tls in
                    if let caFile { tls.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
                },
                config: .defaults {
                    $0.http2.authority = serverName
                    $0.http2.targetWindowSize = TunnelHTTP2Settings.clientWindowBytes
                    $0.connection.flushCoalescing = nil  // see TunnelHTTP2Settings
                    $0.channelDebuggingCallbacks.onCreateHTTP2Stream = DataFrameCopier.install(on:)
                    $0.channelDebuggingCallbacks.onCreateTCPConnection = onCreateTCPConnection
                },
                eventLoopGroup: loop)
        }
    }

    public func run(
        hello: TunnelHello, handler: any ExchangeHandler, leave: TunnelLeaveSignal,
        onDrain: @escaping @Sendable () -> Void,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        let connection = switch security {
        case .plaintext: ClientTunnelConnection(scheme: "http", authority: "\(host):\(port)")
        case .tls(let serverName, _): ClientTunnelConnection(scheme: "https", authority: serverName)
        }
        let transport = try makeTransport(connection: connection, on: MultiThreadedEventLoopGroup.singleton.next())
        let (outgoing, control) = AsyncStream.makeStream(of: Hopgate_Tunnel_V1_ControlFromClient.self)
        var message = Hopgate_Tunnel_V1_ControlFromClient()
        message.hello = Hopgate_Tunnel_V1_Hello.with {
            $0.domain = hello.domain
            $0.clientApiKey = hello.clientAPIKey
            $0.clientName = hello.clientName
            $0.clientVersion = hello.clientVersion
            $0.services = hello.services.map { service in
                .with {
                    $0.name = service.name
                    $0.pathPrefix = service.pathPrefix
                    $0.stripPrefix = service.stripPrefix
                }
            }
            $0.capabilities = faults.offersNoCapabilities ? [] : TunnelCapabilities.offered
        }
        let helloMessage = message
        let session = ClientSession(handler: handler, control: control, leave: leave, connection: connection, logger: logger, faults: faults)
        do {
            return try await withGRPCClient(transport: transport) { client in
                let tunnel = Hopgate_Tunnel_V1_Tunnel.Client(wrapping: client)
                return try await tunnel.control(
                    requestProducer: { writer in
                        try await writer.write(helloMessage)
                        for await message in outgoing { try await writer.write(message) }
                    },
                    onResponse: { response in
                        try await session.serve(response, tunnel: tunnel, onDrain: onDrain, onWelcome: onWelcome)
                    })
            }
        } catch let error as RPCError {
            switch error.code {
            case .unauthenticated: throw TunnelRefusal(.unauthenticated, error.message)
            case .permissionDenied: throw TunnelRefusal(.permissionDenied, error.message)
            case .invalidArgument: throw TunnelRefusal(.invalidHello, error.message)
            case .resourceExhausted: throw TunnelRefusal(.tooManyTunnels, error.message)
            default: throw error
            }
        }
    }
}

/// The tunnel ended because the server stopped answering heartbeats.
public struct TunnelHeartbeatTimeout: Error, CustomStringConvertible {
    public var description: String { "the server stopped answering heartbeats" }
}

/// The running client side of one tunnel.
private struct ClientSession: Sendable {
    let handler: any ExchangeHandler
    let control: AsyncStream<Hopgate_Tunnel_V1_ControlFromClient>.Continuation
    let leave: TunnelLeaveSignal
    let connection: ClientTunnelConnection
    let logger: Logger
    let faults: GRPCTunnelConnector.Faults

    /// What the task that opens Exchange streams is woken for.
    enum PoolEvent: Sendable {
        /// Open this many streams (``ClientExchangePool`` counted them).
        case open(Int)
        case drain
    }

    func serve(
        _ response: StreamingClientResponse<Hopgate_Tunnel_V1_ControlFromServer>,
        tunnel: Hopgate_Tunnel_V1_Tunnel.Client<HTTP2ClientTransport.Posix>,
        onDrain: @escaping @Sendable () -> Void,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        let messages = OneTaskIterator(response.messages.makeAsyncIterator())
        guard case .welcome(let welcome)? = try await messages.next()?.kind,
              let id = UUID(uuidString: welcome.tunnelID),
              let domain = try? DomainName(parsing: welcome.domain)
        else { throw RPCError(code: .internalError, message: "the server's first control message is not a valid welcome") }
        let interval = Duration.milliseconds(max(Int(welcome.heartbeatIntervalMs), 10))
        onWelcome(TunnelWelcome(tunnelID: TunnelID(id), domain: domain, heartbeatInterval: interval, serverVersion: welcome.serverVersion))

        let attach = Hopgate_Tunnel_V1_Attach.with {
            $0.tunnelID = welcome.tunnelID
            $0.exchangeToken = welcome.exchangeToken
        }
        let pool = ClientExchangePool(maximumIdle: Int(welcome.exchangePoolSize))
        let reuse = welcome.capabilities.contains(TunnelCapabilities.exchangeReuse)
        let coalescing = welcome.capabilities.contains(TunnelCapabilities.coalescedParts)
        let (events, eventSink) = AsyncStream.makeStream(of: PoolEvent.self)
        let streamSettings = ClientExchangeStreamSettings(
            handler: handler, attach: attach, coalescing: coalescing, pool: pool, placement: ClientExchangePlacement(),
            open: { count in if count > 0 { eventSink.yield(.open(count)) } }, logger: logger)
        let lastHeard = LastHeard()
        let draining = OnceFlag()
        let control = self.control
        let faults = self.faults

        return try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
            group.addTask {  // the server's control messages
                while let message = try await messages.next() {
                    lastHeard.touch()
                    if case .drain? = message.kind, !draining.isSet {
                        draining.set()
                        eventSink.yield(.drain)
                        onDrain()
                    }
                }
                if draining.isSet { return nil }
                throw RPCError(code: .unavailable, message: "the server ended the tunnel")
            }
            group.addTask {  // heartbeats and liveness
                var sequence: UInt64 = 0
                while true {
                    try await Task.sleep(for: interval)
                    // A client told to play dead neither sends heartbeats nor checks the server's.
                    if faults.stopsAnsweringHeartbeats { continue }
                    if HeartbeatRule.isDead(silence: lastHeard.silence, interval: interval) { throw TunnelHeartbeatTimeout() }
                    sequence += 1
                    var message = Hopgate_Tunnel_V1_ControlFromClient()
                    message.heartbeat = Hopgate_Tunnel_V1_Heartbeat.with { [sequence] in $0.sequence = sequence }
                    control.yield(message)
                }
            }
            group.addTask { [leave] in  // the client asking to leave: the server answers with Drain
                await leave.requested()
                if leave.isRequested {
                    var message = Hopgate_Tunnel_V1_ControlFromClient()
                    message.leave = Hopgate_Tunnel_V1_Leave.with { $0.reason = "the client is shutting down" }
                    control.yield(message)
                }
                return nil
            }
            group.addTask {  // the exchange pool
                await withDiscardingTaskGroup { exchanges in
                    var opening = pool.start()
                    var pending = events.makeAsyncIterator()
                    while true {
                        for _ in 0..<opening where reuse {
                            // Served by its channel handler: this task only waits for its end.
                            exchanges.addTask { await self.runReusableExchangeStream(streamSettings) }
                        }
                        for _ in 0..<opening where !reuse {
                            // Spread over the event loops (see ``EventLoopTaskExecutor``): a
                            // stream's task runs on one loop, and the exchanges share them all.
                            exchanges.addTask(executorPreference: EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())) {
                                await self.runExchangeStream(tunnel: tunnel, attach: attach, coalescing: coalescing, pool: pool, events: eventSink)
                            }
                        }
                        // Until a drain, or the end of the tunnel.
                        guard case .open(let count)? = await pending.next() else { break }
                        opening = count
                    }
                }
                var done = Hopgate_Tunnel_V1_ControlFromClient()
                done.drainComplete = Hopgate_Tunnel_V1_DrainComplete()
                control.yield(done)
                control.finish()
                return .drained
            }
            defer {
                group.cancelAll()
                eventSink.finish()
                control.finish()
            }
            while let result = try await group.next() {
                if let reason = result { return reason }
            }
            return .transportClosed
        }
    }

    /// One pre-opened reusable Exchange stream, opened and served by its channel handler
    /// (``ClientExchangeStreamHandler``) on the tunnel connection: waits for the stream to
    /// close (closing it when the tunnel's tasks are cancelled), then for its last exchange.
    private func runReusableExchangeStream(_ settings: ClientExchangeStreamSettings) async {
        let tasks = ClientExchangeTasks()
        do {
            let stream = try await connection.openExchangeStream(settings, tasks: tasks)
            await withTaskCancellationHandler {
                try? await stream.closeFuture.get()
            } onCancel: {
                stream.close(promise: nil)
            }
        } catch {
            logger.debug("exchange stream could not be opened", metadata: ["error": "\(error)"])
        }
        await tasks.lastStarted?.value
    }

    /// One pre-opened version 1 Exchange stream (the server did not accept `exchange-reuse`),
    /// through grpc-swift's client call: waits for a request, serves it with the handler, then
    /// ends.
    ///
    /// The stream ends in order (see tunnel.proto): this side half-closes after its End or
    /// Failure, and a Cancel from the server stops the handler instead of resetting the stream.
    ///
    /// The reader of the server's messages starts the exchange in a task of its own as soon as
    /// its head comes; that task runs the handler, which writes the response straight to the
    /// stream. The reader awaits the task before it returns, and cancels it on Cancel. The
    /// request producer only writes Attach, then waits for the end of the stream's use and
    /// writes the exchange's Failure, which its cancelled task could not (see
    /// ``ClientExchangeServing``).
    private func runExchangeStream(
        tunnel: Hopgate_Tunnel_V1_Tunnel.Client<HTTP2ClientTransport.Posix>,
        attach: Hopgate_Tunnel_V1_Attach,
        coalescing: Bool,
        pool: ClientExchangePool,
        events: AsyncStream<PoolEvent>.Continuation
    ) async {
        // Streams to open go to the pool's task; a count that opens nothing wakes nobody.
        let open: @Sendable (Int) -> Void = { count in if count > 0 { events.yield(.open(count)) } }
        // The end of the stream's use, with the Failure to send first if any: the first one counts.
        let (streamEnds, streamEnd) = AsyncStream.makeStream(of: String?.self, bufferingPolicy: .bufferingOldest(1))
        let writerForExchanges = Mutex<RPCWriter<ClientExchangeOutbound>?>(nil)
        let handler = self.handler
        do {
            try await tunnel.exchange(
                requestProducer: { writer in
                    // Set before Attach goes out: the server sends a request only after Attach.
                    writerForExchanges.withLock { $0 = RPCWriter(wrapping: ProtobufExchangeWriter(base: writer) { $0.protobuf }) }
                    var first = Hopgate_Tunnel_V1_ExchangeFromClient()
                    first.attach = attach
                    try await writer.write(first)
                    for await failure in streamEnds {
                        if let failure {
                            var message = Hopgate_Tunnel_V1_ExchangeFromClient()
                            message.failure = Hopgate_Tunnel_V1_Failure.with { $0.message = failure }
                            try? await writer.write(message)
                        }
                        break
                    }
                },
                onResponse: { response in
                    var current: (exchange: IncomingExchange, task: Task<Void, Never>)?
                    do {
                        for try await message in response.messages {
                            switch message.kind {
                            case .head(let head):
                                // A version 1 stream carries one exchange.
                                guard current == nil, let writer = writerForExchanges.withLock({ $0 }) else { continue }
                                let exchange = IncomingExchange(head: try ProtoConversions.requestHead(head))
                                if head.hasEnd {  // `request-end-in-head`: the body is over before the handler looks
                                    await exchange.body.send(.end(head.end.trailers.isEmpty ? nil : try ProtoConversions.fields(head.end.trailers)))
                                    exchange.body.finish()
                                }
                                open(pool.streamTaken())
                                let task = Task {
                                    let outcome = await ClientExchangeServing.serve(
                                        exchange.head, with: handler, requestBody: PartStream(exchange.body), writer: .grpc(writer), coalescing: coalescing)
                                    // Request parts that still come are dropped, so the reader never blocks.
                                    exchange.body.finish()
                                    exchange.finish()
                                    let failure: String? = if case .unclean(let failure) = outcome { failure } else { nil }
                                    streamEnd.yield(failure)
                                }
                                current = (exchange, task)
                            case .body(let chunk):
                                await current?.exchange.body.send(.body(ByteBuffer(bytes: chunk.data)))
                            case .end(let end):
                                await current?.exchange.body.send(.end(end.trailers.isEmpty ? nil : try ProtoConversions.fields(end.trailers)))
                                current?.exchange.body.finish()
                            case .cancel:
                                guard let current else {
                                    // Cancelled before its head came (the public request was gone
                                    // at once): it was taken all the same, so the pool gets a new one.
                                    open(pool.streamTaken())
                                    streamEnd.finish()
                                    break
                                }
                                if current.exchange.cancel() {
                                    current.exchange.body.fail(CancellationError())
                                    current.task.cancel()
                                }
                            case nil:
                                break
                            }
                        }
                        await Self.stop(current)
                        streamEnd.finish()
                    } catch {
                        current?.exchange.body.fail(error)
                        await Self.stop(current)
                        streamEnd.finish()
                        throw error
                    }
                })
        } catch {
            logger.debug("exchange stream ended", metadata: ["error": "\(error)"])
        }
    }

    /// The server's side of the stream is over: an exchange still running has nobody to answer.
    private static func stop(_ current: (exchange: IncomingExchange, task: Task<Void, Never>)?) async {
        guard let current else { return }
        current.exchange.body.finish()
        current.task.cancel()
        await current.task.value
    }
}

/// The request that came on a version 1 Exchange stream: its head, its body as it comes, and
/// whether it is still running.
private final class IncomingExchange: Sendable {
    let head: ExchangeRequestHead
    let body = OneSlotChannel<ExchangeRequestPart>()
    private let running = Mutex(true)

    init(head: ExchangeRequestHead) {
        self.head = head
    }

    /// The server's Cancel came: whether the exchange was still running (then its task is
    /// cancelled; it ends the stream).
    func cancel() -> Bool {
        running.withLock { running in
            defer { running = false }
            return running
        }
    }

    /// The exchange's task is done.
    func finish() { running.withLock { $0 = false } }
}

/// A flag set once: the server asked the client to drain, or cancelled an exchange.
final class OnceFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// When the server was last heard from, shared by the client's reader and its liveness check.
final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    func touch() { instant.withLock { $0 = .now } }
    /// How long the peer has been silent.
    var silence: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
