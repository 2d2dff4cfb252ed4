public import HopGateDomain
import HTTPTypes
public import Logging
import NIOCore
import Synchronization

/// The client's `ExchangeHandler`: picks the local service by the longest path prefix, hands
/// the exchange to a ``LocalForwarder``, answers 502 itself when the service cannot be reached
/// before a response head was sent, and logs one line per request.
public struct LocalServiceRouter: ExchangeHandler {
    private let routes: RouteTable<LocalService>
    private let domain: DomainName
    private let forwarder: any LocalForwarder
    private let logger: Logger
    private let clock = ContinuousClock()

    /// - Parameter services: the default service has prefix `/`; without one, unmatched paths get 404.
    public init(domain: DomainName, services: [LocalService], forwarder: any LocalForwarder, logger: Logger) throws(RouteTableError) {
        self.domain = domain
        self.routes = try RouteTable(services.map {
            RouteTable.Route(host: domain, prefix: $0.prefix, target: $0, stripPrefix: $0.stripPrefix)
        })
        self.forwarder = forwarder
        var logger = logger
        logger[metadataKey: "component"] = "forwarder"
        self.logger = logger
    }

    public nonisolated(nonsending) func handle(
        _ head: ExchangeRequestHead,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws {
        let started = clock.now
        let path = head.request.path ?? "/"
        let status = Mutex<Int?>(nil)
        let tracked = response.observing { part in
            // `HTTPResponse.status` parses the `:status` field on every read: read once.
            if case .head(let responseHead) = part, case let answer = responseHead.status,
                answer.kind != .informational || answer == .switchingProtocols {
                status.withLock { $0 = answer.code }
            }
        }
        // Request-scoped metadata is part of each line's metadata, which swift-log builds only
        // when the line's level is enabled (a logger copy with metadata cost every request).
        let log = logger
        var service = "-"
        defer {
            let elapsed = started.duration(to: clock.now)
            log.info("request", metadata: [
                "request_id": "\(head.requestID)", "service": "\(service)",
                "method": "\(head.request.method.rawValue)", "path": "\(path.prefix(200))",
                "status": "\(status.withLock { $0 }.map(String.init) ?? "-")",
                "duration_ms": "\(elapsed.millisecondsToTenths)",
            ])
        }

        guard let match = routes.lookup(host: domain, path: path) else {
            try await Self.answer(404, "no local service for this path / 이 경로에 연결된 로컬 서비스가 없습니다", to: tracked)
            return
        }
        var forwarded = head
        // Set only when it changes: setting it copies the request's pseudo-header storage.
        let forwardedPath = match.forwardedPath
        if forwardedPath != path { forwarded.request.path = forwardedPath }
        if match.route.stripPrefix && match.route.prefix != .root {
            // What the service needs to build its public URLs (Spring, ASP.NET, Traefik's convention).
            forwarded.request.headerFields[PublicRequestRouter.forwardedPrefixField] = match.route.prefix.value
        }
        service = match.route.target.name
        do {
            try await forwarder.forward(forwarded, to: match.route.target.target, requestBody: requestBody, response: tracked)
        } catch {
            guard status.withLock({ $0 }) == nil, !Task.isCancelled else { throw error }
            log.warning("local service failed", metadata: [
                "request_id": "\(head.requestID)", "service": "\(service)", "target": "\(match.route.target.target)", "error": "\(error)",
            ])
            try await Self.answer(502, "the local service \(match.route.target.target) did not answer / 로컬 서비스가 응답하지 않습니다", to: tracked)
        }
    }

    private nonisolated(nonsending) static func answer(_ code: Int, _ text: String, to response: PartWriter<ExchangeResponsePart>) async throws {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.contentLength] = "\(text.utf8.count + 1)"
        try await response.write(.head(HTTPResponse(status: .init(code: code), headerFields: fields)))
        try await response.write(.body(ByteBuffer(string: text + "\n")))
        try await response.write(.end(nil))
    }
}
