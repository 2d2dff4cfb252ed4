import HopGateDomain
public import HopGatePorts
import NIOCore
import Synchronization

/// Forwards tunnelled exchanges to plain-http local services over keep-alive HTTP/1.1
/// connections pooled per target, built directly on NIO: the request goes out in one event-loop
/// hop, each read burst of the response reaches the exchange's task in one wake-up, bodies
/// stream both ways with back-pressure, bytes pass through unchanged (no decompression, no
/// redirects), hop-by-hop fields are removed and `Host` is the request's authority.
///
/// Not carried here: upgrades and `TE: trailers` requests (``DirectHTTP1Forwarder``, a
/// connection each) and https targets (an ``HTTPClientLocalForwarder`` made on first use).
/// 1xx informational responses are skipped.
public final class PooledHTTP1Forwarder: LocalForwarder {
    /// Settings of the forwarder.
    public struct Configuration: Sendable {
        /// How long connecting to the local service may take. Default 5 s.
        public var connectTimeout: Duration = .seconds(5)
        /// Idle keep-alive connections kept per local service. Default 64.
        public var maximumIdleConnectionsPerTarget = 64
        /// How long an unused connection stays open. Default 60 s.
        public var idleTimeout: Duration = .seconds(60)
        public init() {}
    }

    private let pool: HTTP1ConnectionPool
    private let connectTimeout: TimeAmount
    private let configuration: Configuration
    private let tlsForwarder = Mutex<HTTPClientLocalForwarder?>(nil)

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.connectTimeout = .nanoseconds(configuration.connectTimeout.nanoseconds)
        self.pool = HTTP1ConnectionPool(
            connectTimeout: connectTimeout, idleTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds),
            maximumIdlePerTarget: configuration.maximumIdleConnectionsPerTarget)
    }

    /// Closes pooled connections. Call once, when the client stops.
    public func shutdown() async throws {
        await pool.shutdown()
        try await tlsForwarder.withLock { $0 }?.shutdown()
    }

    public nonisolated(nonsending) func forward(
        _ head: ExchangeRequestHead,
        to target: LocalTarget,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws {
        guard target.scheme == "http" else {
            try await forwarderForTLS().forward(head, to: target, requestBody: requestBody, response: response)
            return
        }
        if DirectHTTP1Forwarder.isNeeded(for: head.request) {
            try await DirectHTTP1Forwarder.forward(head, to: target, connectTimeout: connectTimeout, requestBody: requestBody, response: response)
            return
        }
        try await PooledHTTP1Exchange.forward(head, to: target, pool: pool, requestBody: requestBody, response: response)
    }

    private func forwarderForTLS() -> HTTPClientLocalForwarder {
        tlsForwarder.withLock { forwarder in
            if let forwarder { return forwarder }
            var settings = HTTPClientLocalForwarder.Configuration()
            settings.connectTimeout = configuration.connectTimeout
            settings.maximumConnectionsPerTarget = configuration.maximumIdleConnectionsPerTarget
            let made = HTTPClientLocalForwarder(configuration: settings)
            forwarder = made
            return made
        }
    }
}
