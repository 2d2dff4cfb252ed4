import AsyncAlgorithms
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import HopGateDomain
public import HopGatePorts
public import Logging
import NIOCore
import SwiftProtobuf
import Synchronization

/// The client side of the tunnel protocol: one Control stream, plus a pool of pre-opened
/// Exchange streams that it tops up as requests take them, each served concurrently. The pool
/// follows demand (``ExchangePoolSizing``): two idle streams on a tunnel that has not been busy,
/// growing with the requests taken up to the server's `exchange_pool_size`. The client offers
/// `exchange-reuse` and `coalesced-parts`; when the server accepts them, a stream carries one
/// exchange after another, and a small response goes as one message.
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

    private func makeTransport() throws -> HTTP2ClientTransport.Posix {
        switch security {
        case .plaintext:
            return try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port), transportSecurity: .plaintext,
                config: .defaults {
                    $0.http2.targetWindowSize = TunnelHTTP2Settings.clientWindowBytes
                    $0.channelDebuggingCallbacks.onCreateHTTP2Stream = DataFrameCopier.install(on:)
                })
        case .tls(let serverName, let caFile):
            return try HTTP2ClientTransport.Posix(
                target: .dns(host: host, port: port),
                transportSecurity: .tls { tls in
                    if let caFile { tls.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
                },
                config: .defaults {
                    $0.http2.authority = serverName
                    $0.http2.targetWindowSize = TunnelHTTP2Settings.clientWindowBytes
                    $0.channelDebuggingCallbacks.onCreateHTTP2Stream = DataFrameCopier.install(on:)
                })
        }
    }

    public func run(
        hello: TunnelHello, handler: any ExchangeHandler, leave: TunnelLeaveSignal,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        let transport = try makeTransport()
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
        let session = ClientSession(handler: handler, control: control, leave: leave, logger: logger, faults: faults)
        do {
            return try await withGRPCClient(transport: transport) { client in
                let tunnel = Hopgate_Tunnel_V1_Tunnel.Client(wrapping: client)
                return try await tunnel.control(
                    requestProducer: { writer in
                        try await writer.write(helloMessage)
                        for await message in outgoing { try await writer.write(message) }
                    },
                    onResponse: { response in
                        try await session.serve(response, tunnel: tunnel, onWelcome: onWelcome)
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
        let lastHeard = LastHeard()
        let draining = OnceFlag()
        let control = self.control
        let faults = self.faults

        return try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
            group.addTask {  // the server's control messages
                while let message = try await messages.next() {
                    lastHeard.touch()
                    if case .drain? = message.kind {
                        draining.set()
                        eventSink.yield(.drain)
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
                        for _ in 0..<opening {
                            exchanges.addTask {
                                await self.runExchangeStream(tunnel: tunnel, attach: attach, reuse: reuse, coalescing: coalescing, pool: pool, events: eventSink)
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

    /// One pre-opened Exchange stream: waits for a request, then serves it with the handler —
    /// and, with `reuse`, the next one after each exchange that ended cleanly.
    ///
    /// The stream ends in order (see tunnel.proto): this side half-closes after its End or
    /// Failure (or, reused, when an exchange did not end cleanly or the server retires the idle
    /// stream), and a Cancel from the server stops the handler instead of resetting the stream.
    private func runExchangeStream(
        tunnel: Hopgate_Tunnel_V1_Tunnel.Client<HTTP2ClientTransport.Posix>,
        attach: Hopgate_Tunnel_V1_Attach,
        reuse: Bool,
        coalescing: Bool,
        pool: ClientExchangePool,
        events: AsyncStream<PoolEvent>.Continuation
    ) async {
        // Streams to open go to the pool's task; a count that opens nothing wakes nobody.
        let open: @Sendable (Int) -> Void = { count in if count > 0 { events.yield(.open(count)) } }
        let (incoming, incomingSink) = AsyncStream.makeStream(of: IncomingExchange.self)
        let cancelled = OnceFlag()
        let handler = self.handler
        do {
            try await tunnel.exchange(
                requestProducer: { writer in
                    var first = Hopgate_Tunnel_V1_ExchangeFromClient()
                    first.attach = attach
                    try await writer.write(first)
                    var exchanges = incoming.makeAsyncIterator()
                    while let exchange = await exchanges.next() {
                        open(pool.streamTaken())
                        let clean = await ClientExchangeServing.serve(
                            exchange.head, with: handler, requestBody: exchange.body, cancel: exchange.cancel, writer: writer,
                            coalescing: coalescing)
                        // Request parts that still come are dropped, so the response side never blocks.
                        exchange.body.finish()
                        guard reuse, clean, exchange.requestEnded.isSet, !cancelled.isSet else { return }
                        pool.streamReleased()
                    }
                    // No more requests: the server cancelled the stream before its head came (the
                    // public request was gone at once; it was taken all the same, so the pool
                    // gets a new one) or retired it while idle (the pool shrinks).
                    if cancelled.isSet { open(reuse ? pool.streamRetired() : pool.streamTaken()) }
                },
                onResponse: { response in
                    var current: IncomingExchange?
                    do {
                        for try await message in response.messages {
                            switch message.kind {
                            case .head(let head):
                                let exchange = IncomingExchange(head: try ProtoConversions.requestHead(head))
                                current = exchange
                                incomingSink.yield(exchange)
                                if !reuse { incomingSink.finish() }
                            case .body(let chunk):
                                await current?.body.send(.body(ByteBuffer(bytes: chunk.data)))
                            case .end(let end):
                                current?.requestEnded.set()
                                await current?.body.send(.end(end.trailers.isEmpty ? nil : try ProtoConversions.fields(end.trailers)))
                                current?.body.finish()
                            case .cancel:
                                cancelled.set()
                                incomingSink.finish()
                                current?.body.fail(CancellationError())
                                current?.cancel.fire()
                            case nil:
                                break
                            }
                        }
                        incomingSink.finish()
                        current?.body.finish()
                    } catch {
                        incomingSink.finish()
                        current?.body.fail(error)
                        throw error
                    }
                })
        } catch {
            logger.debug("exchange stream ended", metadata: ["error": "\(error)"])
        }
    }
}

/// One request that came on an Exchange stream: its head, its body as it comes, and the
/// server's Cancel of it.
private final class IncomingExchange: Sendable {
    let head: ExchangeRequestHead
    let body = OneSlotChannel<ExchangeRequestPart>()
    let cancel = ServerCancelSignal()
    /// The request's End came.
    let requestEnded = OnceFlag()

    init(head: ExchangeRequestHead) {
        self.head = head
    }
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
