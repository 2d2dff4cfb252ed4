import HTTPTypes
public import HopGatePorts
public import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix

/// The public HTTP listener: HTTP/1.1 with keep-alive, each request handed to the
/// ``PublicRequestRouter`` with its body streamed in and the response streamed out under the
/// socket's back-pressure.
///
/// Plain HTTP for now; HTTPS with SNI, ALPN `h2` and the shared gRPC port come with the TLS edge.
public struct PublicHTTPServer: Sendable {
    public let host: String
    public let port: Int
    private let router: PublicRequestRouter
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    public init(host: String, port: Int, router: PublicRequestRouter, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.router = router
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the task is cancelled.
    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                    return try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        await onListening(server.channel.localAddress?.port ?? port)
        logger.notice("public HTTP listening", metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"])
        let router = self.router
        let logger = self.logger
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            group.addTask { await Self.serve(connection, router: router, logger: logger) }
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
    }

    /// One connection: requests one after another (HTTP/1.1 keep-alive).
    private static func serve(_ connection: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, router: PublicRequestRouter, logger: Logger) async {
        let peer = connection.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                let reader = RequestReader(inbound.makeAsyncIterator())
                while let part = try await reader.next() {
                    guard case .head(let head) = part else { continue }
                    reader.startBody()
                    let body = PartStream<ExchangeRequestPart> { try await reader.nextBodyPart() }
                    let writer = PartWriter<ExchangeResponsePart> { part in
                        switch part {
                        case .head(let response): try await outbound.write(.head(response))
                        case .body(let buffer): try await outbound.write(.body(buffer))
                        case .end(let trailers): try await outbound.write(.end(trailers))
                        }
                    }
                    try await router.handle(head, peer: peer, scheme: "http", requestBody: body, response: writer)
                    // Read what the router left of the body before the next request.
                    while try await reader.nextBodyPart() != nil {}
                    if head.headerFields[.connection]?.lowercased().contains("close") == true { return }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }
}

/// Reads one connection's request parts; a body stream reads through it up to the request's end.
///
/// Not Sendable: the connection task and the router's body pump use it one after the other
/// (the connection task waits for the router to return before reading again).
private final class RequestReader {
    private var iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator
    private var inBody = false

    init(_ iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> HTTPRequestPart? { try await iterator.next() }

    func startBody() { inBody = true }

    /// The next body part of the current request, `.end` once, then nil.
    func nextBodyPart() async throws -> ExchangeRequestPart? {
        guard inBody, let part = try await iterator.next() else { return nil }
        switch part {
        case .head: throw ChannelError.inappropriateOperationForState
        case .body(let buffer): return .body(buffer)
        case .end(let trailers):
            inBody = false
            return .end(trailers)
        }
    }
}
