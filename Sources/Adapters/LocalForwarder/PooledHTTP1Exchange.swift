import HopGatePorts
import HTTPTypes
import NIOCore
import NIOHTTP1

/// One exchange on pooled connections: frames the request, sends it, relays the response parts
/// as they come, and gives the connection back only when both messages went through whole and
/// the service keeps it alive. A bodiless idempotent request that finds its reused connection
/// closed by the service before any answer is sent once more on a new connection.
struct PooledHTTP1Exchange {
    /// The request's head in bytes (written again as they are when the request is retried).
    private let head: PooledRequestPart
    private let method: HTTPMethod
    private let target: LocalTarget
    private let pool: HTTP1ConnectionPool

    init(head: PooledRequestHead, chunked: Bool, target: LocalTarget, pool: HTTP1ConnectionPool) {
        self.head = .head(head.bytes(allocator: Self.allocator), method: head.method, chunked: chunked)
        self.method = head.method
        self.target = target
        self.pool = pool
    }

    /// The allocator of the heads' buffers (a channel's own is the same default one; the head is
    /// made before the connection is known).
    private static let allocator = ByteBufferAllocator()

    /// Runs the exchange for `request`.
    nonisolated(nonsending) static func forward(
        _ request: ExchangeRequestHead, to target: LocalTarget, pool: HTTP1ConnectionPool,
        requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>
    ) async throws {
        var head = PooledRequestHead(request, target: target)
        var parts = requestBody.makeAsyncIterator()
        let declaredLength = head.declaredLength
        // Without a length, the first part says whether there is a body (and how to frame it);
        // with one, the head goes out at once (a client waiting for `100 Continue` sends nothing yet).
        var first: ExchangeRequestPart?
        var firstRead = false
        if declaredLength == nil || declaredLength == 0 {
            first = try await parts.next()
            firstRead = true
        }
        let hasBody: Bool
        if let declaredLength {
            hasBody = declaredLength > 0
        } else if case .body = first {
            hasBody = true
        } else {
            hasBody = false
        }
        let chunked = head.frame(hasBody: hasBody)
        let exchange = PooledHTTP1Exchange(head: head, chunked: chunked, target: target, pool: pool)
        guard hasBody else {
            try await exchange.sendBodiless(to: response)
            return
        }
        let connection = try await pool.acquire(target).connection
        var pending: ExchangeRequestPart?? = firstRead ? .some(first) : .none
        try await exchange.send(on: connection, declaredLength: declaredLength, to: response) {
            if let part = pending { pending = .none; return part }
            return try await parts.next()
        }
    }

    /// A request without a body: head and end in one write; retried once on a new connection
    /// when a reused one turns out closed and the method is idempotent.
    private nonisolated(nonsending) func sendBodiless(to response: PartWriter<ExchangeResponsePart>) async throws {
        var (connection, reused) = try await pool.acquire(target)
        let retriable = switch method {
        case .GET, .HEAD, .OPTIONS: true
        default: false
        }
        while true {
            connection.send(head, ending: true)
            do {
                let keepAlive = try await relay(from: connection, to: response)
                finish(connection, keepAlive: keepAlive)
                return
            } catch let error as PooledForwardingError
                where error.code == .closedBeforeResponse && reused && retriable && !Task.isCancelled {
                connection = try await pool.connect(target)
                reused = false
            }
        }
    }

    /// A request with a body: the response is relayed by a child task while this one streams the
    /// body, so a service may answer before it has read everything.
    private nonisolated(nonsending) func send(
        on connection: PooledHTTP1Connection, declaredLength: Int?, to response: PartWriter<ExchangeResponsePart>,
        nextPart: () async throws -> ExchangeRequestPart?
    ) async throws {
        connection.send(head, ending: false)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await relay(from: connection, to: response) }
            let sentWhole: Bool
            do {
                sentWhole = try await Self.streamBody(on: connection, declaredLength: declaredLength, nextPart: nextPart)
            } catch {
                connection.close()
                throw error
            }
            let keepAlive = try await group.next() ?? false
            finish(connection, keepAlive: keepAlive && sentWhole)
        }
    }

    /// Writes the request body parts as they come, waiting for the socket only past a window of
    /// unwritten bytes. Returns whether the whole body went out.
    private nonisolated(nonsending) static func streamBody(
        on connection: PooledHTTP1Connection, declaredLength: Int?, nextPart: () async throws -> ExchangeRequestPart?
    ) async throws -> Bool {
        var sent = 0
        while let part = try await nextPart() {
            switch part {
            case .body(let bytes):
                sent += bytes.readableBytes
                try await connection.write(.body(.byteBuffer(bytes)), bytes: bytes.readableBytes)
            case .end(let trailers):
                return try await end(on: connection, declaredLength: declaredLength, sent: sent, trailers: trailers)
            }
        }
        return try await end(on: connection, declaredLength: declaredLength, sent: sent, trailers: nil)
    }

    private nonisolated(nonsending) static func end(on connection: PooledHTTP1Connection, declaredLength: Int?, sent: Int, trailers: HTTPFields?) async throws -> Bool {
        if let declaredLength {
            guard sent == declaredLength else { throw PooledForwardingError(.requestBodyLength) }
            try await connection.write(.end(nil), bytes: 0)
        } else {
            try await connection.write(.end(trailers.map(DirectHTTP1Forwarder.headers(from:))), bytes: 0)
        }
        return true
    }

    /// Relays the response parts; returns whether the service keeps the connection alive. On
    /// any failure the connection is closed.
    /// - Throws: ``PooledForwardingError/Code/closedBeforeResponse`` when nothing of the response came.
    private nonisolated(nonsending) func relay(from connection: PooledHTTP1Connection, to response: PartWriter<ExchangeResponsePart>) async throws -> Bool {
        var keepAlive = false
        var started = false
        var answered = false
        do {
            while true {
                let parts: [HTTPClientResponsePart]
                do {
                    parts = try await connection.nextParts()
                } catch where !started {
                    throw PooledForwardingError(.closedBeforeResponse)
                }
                started = true
                // One read burst is handed on in one write (a small answer's head, body and end).
                var relayed: [ExchangeResponsePart] = []
                relayed.reserveCapacity(parts.count)
                var ended = false
                for part in parts where !ended {
                    switch part {
                    case .head(let answer):
                        guard answer.status.code >= 200 else { continue }  // informational: not relayed
                        answered = true
                        keepAlive = HTTP1ResponseHead.keepsConnection(answer, method: method)
                        relayed.append(.head(HTTP1ResponseHead.response(from: answer)))
                    case .body(let bytes):
                        relayed.append(.body(bytes))
                    case .end(let trailers):
                        guard answered else { throw PooledForwardingError(.noFinalResponse) }
                        relayed.append(.end(trailers.map(DirectHTTP1Forwarder.fields(from:))))
                        ended = true
                    }
                }
                try await response.write(contentsOf: relayed[...])
                if ended { return keepAlive }
            }
        } catch {
            connection.close()
            throw error
        }
    }

    private func finish(_ connection: PooledHTTP1Connection, keepAlive: Bool) {
        if keepAlive { pool.release(connection, to: target) } else { connection.close() }
    }
}
