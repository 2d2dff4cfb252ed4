public import HTTPTypes
public import HopGateDomain
public import Logging
public import NIOCore
import Synchronization

/// The reverse-proxy core: sends a public request through the tunnel bound to its `Host` and
/// streams the answer back, with back-pressure both ways (nothing holds a whole body).
///
/// Unknown host → 404; registered but no tunnel → 502; the client's service failed before
/// answering → 502; no response head for ``Configuration/responseTimeout`` after the request
/// last moved (see ``ResponseDeadlines``) → 504; a body
/// over ``Configuration/maximumBodyBytes`` → 413. Once the response head has gone out, a failure
/// can only cut the response off: ``handle(_:peer:scheme:requestBody:response:)`` then throws
/// and the edge resets the stream.
public struct PublicRequestRouter: Sendable {
    public struct Configuration: Sendable {
        /// How long to wait for the service's response head once the request has stopped moving
        /// (its start, or the last request body part the tunnel took).
        public var responseTimeout: Duration
        /// The largest request body accepted, in bytes; 0 means no limit.
        public var maximumBodyBytes: Int
        /// The `Strict-Transport-Security` value put on HTTPS responses for registered domains
        /// (the tunnelled responses, unless the service set its own, and the edge's pages for
        /// them), e.g. `max-age=31536000`; nil sends none.
        public var strictTransportSecurity: String?
        public init(responseTimeout: Duration = .seconds(60), maximumBodyBytes: Int = 0, strictTransportSecurity: String? = nil) {
            self.responseTimeout = responseTimeout
            self.maximumBodyBytes = maximumBodyBytes
            self.strictTransportSecurity = strictTransportSecurity
        }
    }

    private let hub: TunnelHub
    private let administration: DomainAdministration
    let configuration: Configuration
    private let site: ServerSiteRoute?
    private let deadlines: ResponseDeadlines
    private let logger: Logger

    /// - Parameters:
    ///   - site: requests the server answers itself (the admin API on its own domain).
    ///   - timers: where the sweep of the exchanges' response deadlines runs (one of the edge's
    ///     event loops; see ``ResponseDeadlines``).
    public init(
        hub: TunnelHub, administration: DomainAdministration, configuration: Configuration, site: ServerSiteRoute? = nil,
        timers: any EventLoopGroup, logger: Logger
    ) {
        self.hub = hub
        self.administration = administration
        self.configuration = configuration
        self.site = site
        self.deadlines = ResponseDeadlines(timeout: configuration.responseTimeout, on: timers.any())
        self.logger = logger
    }

    /// Serves one public request.
    /// - Parameters:
    ///   - peer: the public client's address (for `X-Forwarded-For` and `X-Real-IP`).
    ///   - scheme: `https` or `http` as the public client used it.
    public nonisolated(nonsending) func handle(
        _ request: HTTPRequest, peer: PeerAddress, scheme: String,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws {
        let requestID = RequestID.accepting(request.headerFields[Self.requestIDField])
        let started = ContinuousClock.now
        guard let authority = request.authority, let host = try? DomainName(parsing: authority) else {
            try await send(.badRequest, for: request, requestID: requestID, started: started, to: response)
            return
        }
        // Request-scoped metadata goes into each line's metadata closure, which runs only when
        // the line's level is enabled (copying the logger with metadata cost every request).
        let log = RequestLog(logger: logger, requestID: requestID, domain: host)
        if let site, host == site.domain, site.matches(path: request.path ?? "/") {
            try await serve(request, on: site, peer: peer, scheme: scheme, requestID: requestID, started: started, requestBody: requestBody, response: response, log: log)
            return
        }
        let path = request.path ?? "/"
        guard let first = hub.connection(for: host, path: path) else {
            let registered = await administration.isRegistered(host)
            let page: ErrorPage = registered ? .noTunnel : .unknownHost
            try await send(page, for: request, requestID: requestID, started: started, strictTransport: registered ? scheme : nil, to: response)
            log.info("request") { ["method": "\(request.method)", "path": "\(path)", "status": "\(page.status.code)"] }
            return
        }

        // An upgrade (WebSocket …) keeps `Upgrade` across the tunnel; after a 101 the body parts
        // both ways are the switched protocol's bytes, not counted against the body limit.
        let upgrading = HopByHopFields.isUpgradeRequest(request.headerFields)
        let head = ExchangeRequestHead(
            request: forwarded(request, peer: peer, scheme: scheme, requestID: requestID), requestID: requestID,
            bodyless: requestBody.knownEmpty && !upgrading)
        let progress = ExchangeProgress()
        let attempt = ExchangeAttempt(
            head: head, upgrading: upgrading, limit: upgrading ? 0 : configuration.maximumBodyBytes, scheme: scheme,
            strictTransportSecurity: configuration.strictTransportSecurity, body: HandedOffStream(requestBody), response: response,
            progress: progress)
        // The exchange runs in this task: its deadline and a request body over the limit stop
        // it through ``ExchangeProgress/stopExchange()``, which interrupts the transport's
        // waits, so no task of its own is needed. Inside, the response is pumped inline and a
        // request body in one child task. A request whose tunnel left or broke before it
        // started goes to another tunnel of its route (``ExchangeRetryRule``).
        let deadline = deadlines.watch(progress)
        do {
            defer { deadlines.forget(deadline) }
            try await run(attempt, first: first, host: host, path: path, method: request.method, log: log)
        } catch {
            guard !progress.headSent else {
                HopGateMetrics.recordProxyError(kind: "cut_off")
                HopGateMetrics.recordRequest(method: request.method.rawValue, status: progress.status, duration: .now - started)
                log.warning("response cut off") { ["error": "\(error)"] }
                throw error
            }
            let page: ErrorPage
            switch progress.failure ?? error {
            case ProxyFailure.timeout: page = .timeout
            case ProxyFailure.tooLarge: page = .tooLarge
            case let failure as TunnelExchangeError where failure.code == .upstreamFailed: page = .upstreamFailed
            case is ExchangeResponseOrder.Violation: page = .upstreamFailed
            default: page = .noTunnel
            }
            log.info("request") {
                ["method": "\(request.method)", "path": "\(path)", "status": "\(page.status.code)", "error": "\(error)"]
            }
            try await send(page, for: request, requestID: requestID, started: started, strictTransport: scheme, to: response)
            return
        }
        let elapsed = ContinuousClock.now - started  // read once: the metric and the log line agree
        HopGateMetrics.recordRequest(method: request.method.rawValue, status: progress.status, duration: elapsed)
        log.info("request") {
            ["method": "\(request.method)", "path": "\(path)", "status": "\(progress.status)", "duration_ms": "\(elapsed.millisecondsToTenths)"]
        }
    }

    /// Runs `attempt` on the route's first tunnel and, when ``ExchangeRetryRule`` allows it after
    /// a failure, on another one (or the same one when nothing was sent and it still takes
    /// exchanges: one stream of it ended, not the tunnel).
    private nonisolated(nonsending) func run(
        _ attempt: ExchangeAttempt, first: any TunnelConnection, host: DomainName, path: String, method: HTTPRequest.Method,
        log: RequestLog
    ) async throws {
        var connection = first
        var failedTunnels: Set<TunnelID> = []
        for attemptNumber in 1... {
            do {
                try await attempt.run(on: connection)
                return
            } catch {
                failedTunnels.insert(connection.id)
                guard attemptNumber < ExchangeRetryRule.maximumAttempts, attempt.progress.failure == nil, !Task.isCancelled,
                      ExchangeRetryRule.allowsRetry(
                        after: error, method: method, bodyTaken: attempt.progress.bodyTaken,
                        responseStarted: attempt.progress.responseStarted),
                      let next = hub.connection(for: host, path: path, excluding: failedTunnels)
                        ?? (ExchangeRetryRule.nothingWasSent(error) ? hub.connection(for: host, path: path) : nil)
                else { throw error }
                HopGateMetrics.recordRetry()
                log.info("retrying on another tunnel") { ["path": "\(path)", "error": "\(error)", "attempt": "\(attemptNumber + 1)"] }
                connection = next
            }
        }
    }

    /// Hands a request for the server's own site to its in-process handler, with the public
    /// client's address; 502 when that fails before answering.
    private nonisolated(nonsending) func serve(
        _ request: HTTPRequest, on site: ServerSiteRoute, peer: PeerAddress, scheme: String, requestID: String, started: ContinuousClock.Instant,
        requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>, log: RequestLog
    ) async throws {
        let head = ExchangeRequestHead(request: forwarded(request, peer: peer, scheme: scheme, requestID: requestID), requestID: requestID)
        let progress = ExchangeProgress()
        let watched = response.observing { part in
            if case .head(let answer) = part, answer.status.code >= 200 { progress.markHeadSent(answer.status.code) }
        }
        do {
            try await site.handler.handle(head, peer: peer, requestBody: requestBody, response: watched)
        } catch {
            guard !progress.headSent else { throw error }
            log.warning("server site failed") { ["path": "\(request.path ?? "")", "error": "\(error)"] }
            try await send(.upstreamFailed, for: request, requestID: requestID, started: started, to: response)
            return
        }
        HopGateMetrics.recordRequest(method: request.method.rawValue, status: progress.status, duration: .now - started)
        log.info("request") { ["method": "\(request.method)", "path": "\(request.path ?? "")", "status": "\(progress.status)"] }
    }

    /// The request as the tunnel client sees it: hop-by-hop fields gone, `X-Forwarded-*` set,
    /// `X-Real-IP` the public client's address (as nginx's `proxy_set_header X-Real-IP`).
    ///
    /// The fields the edge sets go after the public client's, in a fixed order. Usually the
    /// client sent none that the edge drops or sets: its fields are then kept as they are (one
    /// copy of their storage) and the edge's appended. Otherwise the fields are made again in
    /// one pass. (Setting each field by subscript cost a search and a copy per field set; adding
    /// every kept field anew costs ≈ 600 instructions a field, callgrind.)
    func forwarded(_ request: HTTPRequest, peer: PeerAddress, scheme: String, requestID: String) -> HTTPRequest {
        let original = request.headerFields
        let tokens = HopByHopFields.connectionTokens(original)
        func isTaken(_ field: HTTPField) -> Bool {
            let name = field.name.canonicalName
            return HopByHopFields.isHopByHop(canonical: name, connectionTokens: tokens) || Self.setByEdge(canonical: name) != .kept
        }
        var fields: HTTPFields
        var forwardedFor: String?
        if original.contains(where: isTaken) {
            fields = HTTPFields()
            fields.reserveCapacity(original.count + 8)
            for field in original {
                let name = field.name.canonicalName
                if HopByHopFields.isHopByHop(canonical: name, connectionTokens: tokens) { continue }
                switch Self.setByEdge(canonical: name) {
                case .kept:
                    fields.append(field)
                case .forwardedFor:
                    forwardedFor = forwardedFor.map { "\($0), \(field.value)" } ?? field.value
                case .replaced:
                    continue
                }
            }
        } else {
            fields = original
            fields.reserveCapacity(original.count + 5)
        }
        let address = peer.address
        fields.append(HTTPField(name: Self.forwardedForField, value: forwardedFor.map { "\($0), \(address)" } ?? address))
        fields.append(HTTPField(name: Self.realIPField, value: address))
        fields.append(HTTPField(name: Self.forwardedProtoField, value: scheme))
        fields.append(HTTPField(name: Self.forwardedHostField, value: request.authority ?? ""))
        fields.append(HTTPField(name: Self.requestIDField, value: requestID))
        // `TE: trailers` is hop-by-hop, but the edge passes trailers back, so the next hop may send them.
        if HopByHopFields.acceptsTrailers(original) {
            fields.append(HTTPField(name: .te, value: "trailers"))
        }
        if HopByHopFields.isUpgradeRequest(original) {
            fields.append(HTTPField(name: .upgrade, value: original[.upgrade] ?? ""))
            fields.append(HTTPField(name: .connection, value: "upgrade"))
        }
        var forwarded = request
        forwarded.headerFields = fields
        return forwarded
    }

    /// What becomes of a public client's field that the edge sets itself.
    private enum EdgeSetField {
        /// Not one of them: passed on.
        case kept
        /// `X-Forwarded-For`: the peer's address is appended to its value.
        case forwardedFor
        /// Dropped: `X-Real-IP`, `X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Request-Id` (set
        /// anew), `X-Forwarded-Prefix` (set only by the client that strips a route's prefix; a
        /// public client's value would let it choose the URLs the service builds) and `Expect`
        /// (answered by the edge, which sends 100 Continue when it reads the body).
        case replaced
    }

    /// Which of the fields the edge sets `name` (lower-cased) is; by length first, as
    /// ``HopByHopFields/isFixedHopByHop(canonical:)``.
    private static func setByEdge(canonical name: String) -> EdgeSetField {
        switch name.utf8.count {
        case 15 where name == "x-forwarded-for": .forwardedFor
        case 9 where name == "x-real-ip",
            17 where name == "x-forwarded-proto",
            16 where name == "x-forwarded-host",
            18 where name == "x-forwarded-prefix",
            12 where name == "x-request-id",
            6 where name == "expect":
            .replaced
        default: .kept
        }
    }

    /// Answers with one of the edge's own pages, and counts it.
    /// - Parameter strictTransport: the scheme of a request for a registered domain (its page gets
    ///   `Strict-Transport-Security` over HTTPS); nil for any other request.
    private nonisolated(nonsending) func send(
        _ page: ErrorPage, for request: HTTPRequest, requestID: String, started: ContinuousClock.Instant,
        strictTransport scheme: String? = nil, to response: PartWriter<ExchangeResponsePart>
    ) async throws {
        HopGateMetrics.recordProxyError(kind: page.kind)
        HopGateMetrics.recordRequest(method: request.method.rawValue, status: page.status.code, duration: .now - started)
        var (head, body) = page.response(for: request.headerFields, requestID: requestID)
        if let scheme { addStrictTransportSecurity(to: &head, scheme: scheme) }
        let parts: [ExchangeResponsePart] = request.method == .head ? [.head(head), .end(nil)] : [.head(head), .body(body), .end(nil)]
        try await response.write(contentsOf: parts[...])
    }

    // Field names the router sets on every request, made once.
    static let requestIDField = HTTPField.Name("X-Request-Id")!
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")!
    static let realIPField = HTTPField.Name("X-Real-IP")!
    static let forwardedProtoField = HTTPField.Name("X-Forwarded-Proto")!
    static let forwardedHostField = HTTPField.Name("X-Forwarded-Host")!
    static let forwardedPrefixField = HTTPField.Name("X-Forwarded-Prefix")!
}

/// The router's log lines for one request: `request_id` and `domain` are added to a line's
/// metadata only when its level is enabled.
struct RequestLog {
    let logger: Logger
    let requestID: String
    let domain: DomainName

    func info(_ message: @autoclosure () -> Logger.Message, metadata: () -> Logger.Metadata) {
        log(.info, message(), metadata)
    }

    func warning(_ message: @autoclosure () -> Logger.Message, metadata: () -> Logger.Metadata) {
        log(.warning, message(), metadata)
    }

    private func log(_ level: Logger.Level, _ message: @autoclosure () -> Logger.Message, _ metadata: () -> Logger.Metadata) {
        guard logger.logLevel <= level else { return }
        var fields = metadata()
        fields["request_id"] = "\(requestID)"
        fields["domain"] = "\(domain)"
        logger.log(level: level, message(), metadata: fields)
    }
}

/// Why the router answered instead of the service.
enum ProxyFailure: Error {
    case timeout, tooLarge
}
