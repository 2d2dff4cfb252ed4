public import HopGateDomain
public import HopGatePorts
public import Hummingbird
import Foundation
import HTTPTypes
public import Logging
import NIOCore

/// The admin API on the public edge (`https://<main domain>/api/v1/admin`), served in process:
/// the edge hands each request to the same Hummingbird responder the admin listener runs
/// (``AdminAPIServer/router(administration:credential:throttle:logger:)``), so the key check,
/// the throttle, the body limit, 405 and the error bodies are the listener's, with no socket
/// in between.
///
/// The request body is read from the edge as the responder asks for it, and the response body
/// is written to the edge as the responder produces it: nothing is held beyond a chunk.
/// The throttle counts the address the edge took from its socket.
public struct AdminAPISite: ServerSiteHandler {
    private let responder: RouterResponder<AdminRequestContext>
    private let logger: Logger

    public init(responder: RouterResponder<AdminRequestContext>, logger: Logger) {
        self.responder = responder
        self.logger = logger
    }

    public nonisolated(nonsending) func handle(
        _ head: ExchangeRequestHead, peer: PeerAddress,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws {
        // `context.id` (used by Hummingbird's middleware) is the logger's request id: the edge's.
        var logger = self.logger
        logger[metadataKey: "hb.request.id"] = .string(head.requestID)
        let context = AdminRequestContext(clientAddress: peer, logger: logger)
        let request = Request(head: head.request, body: RequestBody(asyncSequence: BodyChunks(parts: requestBody)))
        var answer: Response
        do {
            answer = try await responder.respond(to: request, context: context)
        } catch {
            // As Hummingbird's server does for an error no middleware turned into a response.
            logger.debug("Unrecognised Error", metadata: ["error.type": "\(error)"])
            answer = Response(status: .internalServerError, body: .init())
        }
        // What Hummingbird's server adds on the admin listener.
        answer.headers[.date] = Self.httpDate(Date())
        answer.headers[.server] = "hopgate"
        try await response.write(.head(answer.head))
        if head.request.method == .head {
            try await response.write(.end(nil))
            return
        }
        try await answer.body.write(PartBodyWriter(response: response))
    }
}

extension AdminAPISite {
    /// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate).
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// The request's body chunks as Hummingbird reads them: the edge's parts up to `end` (its
/// trailers are dropped; the admin API has no use for them).
///
/// `@unchecked Sendable` is safe because a request's body is a single-pass sequence that
/// Hummingbird iterates once, in one task at a time, as the router does with the stream.
private struct BodyChunks: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBuffer
    let parts: PartStream<ExchangeRequestPart>

    struct AsyncIterator: AsyncIteratorProtocol {
        var parts: PartStream<ExchangeRequestPart>.AsyncIterator
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            while !ended, let part = try await parts.next() {
                switch part {
                case .body(let buffer): return buffer
                case .end: ended = true
                }
            }
            ended = true
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: parts.makeAsyncIterator()) }
}

/// Writes Hummingbird's response body to the edge as exchange parts.
private struct PartBodyWriter: ResponseBodyWriter {
    let response: PartWriter<ExchangeResponsePart>

    mutating func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        try await response.write(.body(buffer))
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await response.write(.end(trailingHeaders))
    }
}
