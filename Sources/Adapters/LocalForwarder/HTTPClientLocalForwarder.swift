import AsyncAlgorithms
import AsyncHTTPClient
public import HopGatePorts
import HopGateDomain
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization

/// Forwards tunnelled exchanges to local HTTP services with AsyncHTTPClient: pooled keep-alive
/// connections, request and response bodies streamed with back-pressure, no redirects followed,
/// no decompression (bytes pass through as the service sent them).
///
/// Upgrade requests (WebSocket …) and requests that accept trailers (`TE: trailers`) go through
/// ``DirectHTTP1Forwarder`` on a connection of their own.
///
/// Not passed through here: 1xx informational responses other than the final head, and trailers (AsyncHTTPClient does not surface them without its unstable API).
public final class HTTPClientLocalForwarder: LocalForwarder {
    /// Settings of the forwarder.
    public struct Configuration: Sendable {
        /// How long connecting to the local service may take. Default 5 s.
        public var connectTimeout: Duration = .seconds(5)
        /// Idle keep-alive connections per local service. Default 64.
        public var maximumConnectionsPerTarget: Int = 64
        public init() {}
    }

    private let client: HTTPClient
    private let connectTimeout: TimeAmount

    public init(configuration: Configuration = .init()) {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        config.timeout = .init(connect: .nanoseconds(configuration.connectTimeout.nanoseconds), read: nil)
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnectionsPerTarget)
        config.httpVersion = .http1Only
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        self.connectTimeout = .nanoseconds(configuration.connectTimeout.nanoseconds)
    }

    /// Closes pooled connections. Call once, when the client stops.
    public func shutdown() async throws { try await client.shutdown() }

    public func forward(
        _ head: ExchangeRequestHead,
        to target: LocalTarget,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws {
        if DirectHTTP1Forwarder.isNeeded(for: head.request) {
            try await DirectHTTP1Forwarder.forward(head, to: target, connectTimeout: connectTimeout, requestBody: requestBody, response: response)
            return
        }
        var request = HTTPClientRequest(url: "\(target.scheme)://\(Self.hostForURL(target.host)):\(target.port)\(head.request.path ?? "/")")
        request.method = HTTPMethod(rawValue: head.request.method.rawValue)
        for field in head.request.headerFields where !HopByHopFields.isHopByHop(field.name) {
            request.headers.add(name: field.name.rawName, value: field.value)
        }
        if let authority = head.request.authority { request.headers.replaceOrAdd(name: "Host", value: authority) }

        var parts = requestBody.makeAsyncIterator()
        let declaredLength = head.request.headerFields[.contentLength].flatMap(Int64.init)
        let first = try await parts.next()
        let bodyChannel = AsyncThrowingChannel<ByteBuffer, any Error>()
        let hasBody: Bool
        switch first {
        case .none, .end:
            hasBody = declaredLength.map { $0 > 0 } ?? false
        case .body:
            hasBody = true
        }
        if hasBody {
            request.body = .stream(bodyChannel, length: declaredLength.map { .known($0) } ?? .unknown)
        }

        let upstreamDone = DoneFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [client, request] in
                // However the upstream side ends, release a pump waiting in `send`.
                defer { upstreamDone.set(); bodyChannel.finish() }
                let upstream = try await client.execute(request, deadline: .distantFuture)
                var fields = HTTPFields()
                fields.reserveCapacity(upstream.headers.count)
                for header in upstream.headers {
                    guard !HopByHopFields.isHopByHop(header.name), let name = HTTPField.Name(header.name) else { continue }
                    fields.append(HTTPField(name: name, value: header.value))
                }
                let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)
                try await response.write(.head(HTTPResponse(status: status, headerFields: fields)))
                for try await chunk in upstream.body {
                    try await response.write(.body(chunk))
                }
                try await response.write(.end(nil))
            }
            if hasBody {
                // Pump the tunnel's request parts into the channel AsyncHTTPClient reads; `send`
                // waits for the reader, so back-pressure reaches the tunnel.
                var next = first
                do {
                    while let part = next, !upstreamDone.isSet {
                        guard case .body(let chunk) = part else { break }
                        await bodyChannel.send(chunk)
                        next = try await parts.next()
                    }
                    bodyChannel.finish()
                } catch {
                    bodyChannel.fail(error)
                    throw error
                }
            }
            try await group.waitForAll()
        }
    }

    private static func hostForURL(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}

/// A flag one task sets and another reads.
private final class DoneFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
