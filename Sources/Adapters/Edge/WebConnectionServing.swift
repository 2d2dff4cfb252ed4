import HTTPTypes
import HopGateDomain
import HopGatePorts
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypes

/// One accepted web connection, after the protocol was chosen (by ALPN on TLS, or plain HTTP/1.1).
enum WebConnection: Sendable {
    /// HTTP/1.1: requests one after another on the connection.
    case http1(WebPartChannel, peer: PeerAddress)
    /// HTTP/2: one request per stream, streams served concurrently.
    case http2(HTTP2StreamInbox, connection: any Channel, peer: PeerAddress)
}

extension WebConnection {
    /// Where the connection's task runs: on its channel's event loop (``EventLoopTaskExecutor``).
    var executor: EventLoopTaskExecutor {
        switch self {
        case .http1(let connection, _): EventLoopTaskExecutor(connection.channel.eventLoop)
        case .http2(_, let connection, _): EventLoopTaskExecutor(connection.eventLoop)
        }
    }
}

/// One HTTP/2 stream of a web connection, and whether its request ended with its head.
struct HTTP2WebStream: Sendable {
    let channel: WebPartChannel
    let requestEnd: HTTP2RequestEnd
}

/// Serves web connections through the ``PublicRequestRouter``: each request's body is streamed in
/// and its response streamed out under the connection's (or the HTTP/2 stream's) back-pressure.
enum WebConnectionServing {
    /// Serves one request: its head, the peer's address, its body, and where the response goes.
    /// Runs on the connection task's executor, as the router does (`nonisolated(nonsending)`).
    typealias RequestHandler = nonisolated(nonsending) @Sendable (
        _ request: HTTPRequest, _ peer: PeerAddress,
        _ body: PartStream<ExchangeRequestPart>, _ response: PartWriter<ExchangeResponsePart>
    ) async throws -> Void

    static func serve(_ connection: WebConnection, handler: @escaping RequestHandler, logger: Logger) async {
        switch connection {
        case .http1(let channel, let peer):
            await serveRequests(on: channel, handler: handler, peer: peer, logger: logger)
        case .http2(let inbox, let channel, let peer):
            await withDiscardingTaskGroup { group in
                while let stream = await inbox.next() {
                    group.addTask { await serveRequests(on: stream.channel, http2RequestEnd: stream.requestEnd, handler: handler, peer: peer, logger: logger) }
                }
            }
            channel.close(promise: nil)
        }
    }

    /// Requests one after another on an HTTP/1.1 connection, or the single request of an HTTP/2
    /// stream (its inbound ends after the request; `http2RequestEnd` tells whether its HEADERS
    /// ended it).
    nonisolated(nonsending) static func serveRequests(
        on connection: WebPartChannel, http2RequestEnd: HTTP2RequestEnd? = nil,
        handler: RequestHandler, peer: PeerAddress, logger: Logger
    ) async {
        defer { connection.close() }
        do {
            let reader = RequestReader(connection)
            while let part = try await reader.next() {
                guard case .head(let head) = part else { continue }
                let upgrading = HTTP1Pipeline.isUpgrade(head)
                // `Expect: 100-continue`: the client waits for a go-ahead before sending the
                // body; the edge gives it when the body is first read (so not for a request
                // refused before that), as nginx does.
                var goAhead: (@Sendable () async throws -> Void)?
                if head.headerFields[.expect]?.lowercased() == "100-continue" {
                    goAhead = { try await connection.write(HTTPResponsePart.head(HTTPResponse(status: .continue))) }
                }
                reader.startBody(upgrading: upgrading, goAhead: goAhead)
                var body = PartStream<ExchangeRequestPart> { try await reader.nextBodyPart() }
                body.knownEmpty = !upgrading
                    && (http2RequestEnd?.endsWithHead == true || RequestBodyFraming.hasNoBody(head, http1: http2RequestEnd == nil))
                let writer = PartWriter<ExchangeResponsePart>(
                    { part in try await connection.write(Self.responsePart(part)) },
                    batches: { parts in try await connection.write(contentsOf: parts.lazy.map(Self.responsePart)) })
                try await handler(head, peer, body, writer)
                // After an upgrade request the connection is done: switched and finished, or
                // declined (the HTTP decoder parses nothing after an upgrade request).
                if upgrading { return }
                // Refused before its body was asked for: the client may or may not send it,
                // so the connection cannot be reused.
                if reader.goAheadPending { return }
                // Read what the router left of the body before the next request — within
                // bounds; past them the connection is closed instead (nginx's lingering close).
                guard try await drainRest(of: reader, on: connection.channel) else { return }
                // An HTTP/2 stream carries one request, and its body has been read to the
                // end: waiting for the stream's inbound to finish would cost a wake-up for
                // nothing (the stream closes with the response's end).
                if http2RequestEnd != nil { return }
                if head.headerFields[.connection]?.lowercased().contains("close") == true { return }
            }
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// An exchange's response part as the HTTP codec's.
    private static func responsePart(_ part: ExchangeResponsePart) -> HTTPResponsePart {
        switch part {
        case .head(let response): .head(response)
        case .body(let buffer): .body(buffer)
        case .end(let trailers): .end(trailers)
        }
    }

    /// The most bytes of a request body the edge reads and discards after the response (an error
    /// page for an upload, say) to keep the connection for the next request; past it the
    /// connection is closed. nginx's `lingering_close` plays the same role.
    static let drainedBytesLimit = 1 << 20
    /// The longest the edge waits for the rest of such a body before closing the connection.
    static let drainTimeLimit = TimeAmount.seconds(2)

    /// Reads and discards what the handler left of a request body, at most ``drainedBytesLimit``
    /// bytes for at most ``drainTimeLimit`` (the connection is closed when the time is up).
    /// - Returns: whether the body ended within the bounds, so that the connection can serve the
    ///   next request.
    private nonisolated(nonsending) static func drainRest(of reader: RequestReader, on channel: any Channel) async throws -> Bool {
        // Usually the handler read the whole body: then there is nothing to schedule or cancel.
        guard reader.bodyPending else { return true }
        let deadline = channel.eventLoop.scheduleTask(in: drainTimeLimit) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var drained = 0
        while let part = try await reader.nextBodyPart() {
            guard case .body(let buffer) = part else { continue }
            drained += buffer.readableBytes
            if drained > drainedBytesLimit { return false }
        }
        return channel.isActive
    }

    /// A channel's peer, made once when the connection is accepted.
    static func peer(of channel: any Channel) -> PeerAddress { PeerAddress(channel.remoteAddress) }
}

/// Reads one connection's request parts; a body stream reads through it up to the request's end.
///
/// Not Sendable: the connection task and the router's body pump use it one after the other
/// (the connection task waits for the router to return before reading again).
private final class RequestReader {
    private let connection: WebPartChannel
    private var inBody = false
    private var upgrading = false
    private var goAhead: (@Sendable () async throws -> Void)?

    init(_ connection: WebPartChannel) { self.connection = connection }

    nonisolated(nonsending) func next() async throws -> HTTPRequestPart? { try await connection.next() }

    /// - Parameters:
    ///   - upgrading: an upgrade request: its HTTP end is not the end of the stream; the bytes
    ///     after a protocol switch follow as body parts, and the connection's end ends it.
    ///   - goAhead: sends `100 Continue`; called before the body is first read.
    func startBody(upgrading: Bool, goAhead: (@Sendable () async throws -> Void)?) {
        inBody = true
        self.upgrading = upgrading
        self.goAhead = goAhead
    }

    /// The current request's body has not been read to its end.
    var bodyPending: Bool { inBody }

    /// The request expected `100 Continue` and its body was never asked for.
    var goAheadPending: Bool { goAhead != nil }

    /// The next body part of the current request, `.end` once, then nil.
    nonisolated(nonsending) func nextBodyPart() async throws -> ExchangeRequestPart? {
        guard inBody else { return nil }
        if let goAhead {
            self.goAhead = nil
            try await goAhead()
        }
        while true {
            guard let part = try await connection.next() else {
                guard upgrading else { return nil }
                inBody = false
                return .end(nil)  // the public peer closed the upgraded connection
            }
            switch part {
            case .head: throw ChannelError.inappropriateOperationForState
            case .body(let buffer): return .body(buffer)
            case .end where upgrading: continue
            case .end(let trailers):
                inBody = false
                return .end(trailers)
            }
        }
    }
}
