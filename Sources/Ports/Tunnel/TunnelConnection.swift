public import HopGateDomain

/// The server's handle on one admitted tunnel. Each ``exchange(_:_:)`` runs on its own
/// transport stream (an HTTP/2 stream for gRPC), so flow control applies per request and one
/// slow or large exchange never delays another.
public protocol TunnelConnection: Sendable {
    var id: TunnelID { get }

    /// Sends `head` to the client and runs `body` with the request-body writer and the
    /// response parts. Leaving `body` (normally or by throwing) ends the exchange; cancelling
    /// the calling task cancels it on the client too, and so does `interruption` (see
    /// ``ExchangeInterruption``): while it is watched, interrupting fails the wait for a free
    /// stream, or the next response part, with the interruption's error.
    ///
    /// For a head marked ``ExchangeRequestHead/bodyless``, the caller writes the End before it
    /// reads any response: the writer must take that End without waiting for the service to
    /// read it (a window of at least one part), or the two sides would wait on each other.
    ///
    /// It and `body` run on the caller's executor (`nonisolated(nonsending)`), as the router's
    /// and the exchange's own functions do: the exchange's task — on its public connection's
    /// event loop — then switches executors only where it waited, not at every call and return
    /// (each switch looked the task's executor preference up under a lock; ≈ 35 a request on
    /// the edge before, 12 after).
    /// - Throws: ``TunnelExchangeError`` when the exchange cannot start or the tunnel fails.
    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (_ requestBody: PartWriter<ExchangeRequestPart>, _ response: PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result

    /// Asks the client to drain: finish in-flight exchanges, expect no new ones, reconnect.
    func drain() async

    /// Closes the tunnel now; in-flight exchanges fail.
    func close() async

    /// Whether the tunnel's connection runs on the calling thread's event loop. The hub
    /// prefers such a tunnel among those of a route: an exchange whose public connection and
    /// tunnel share a loop moves its parts without a hop between threads (see
    /// ``TunnelHub/connection(for:path:excluding:)``). False when unknown.
    var isOnCurrentEventLoop: Bool { get }
}

extension TunnelConnection {
    /// A transport that does not know its connection's event loop.
    public var isOnCurrentEventLoop: Bool { false }

    /// An exchange that only the calling task's cancellation stops.
    public nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead,
        _ body: nonisolated(nonsending) (_ requestBody: PartWriter<ExchangeRequestPart>, _ response: PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        try await exchange(head, interruption: nil, body)
    }
}

/// Why an exchange over a tunnel failed.
public struct TunnelExchangeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The tunnel closed or is draining; nothing was sent (safe to retry on another tunnel).
        case tunnelUnavailable
        /// No stream could be opened in time (client too slow to provide one).
        case noStreamAvailable
        /// The tunnel broke while the exchange was running.
        case tunnelFailed
        /// The client reported that the local service failed.
        case upstreamFailed
        /// The client broke the exchange protocol (e.g. body before head).
        case protocolViolation
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code.rawValue): \(message)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
