public import HopGateDomain

/// Requests for the server's own domain under a path prefix — the admin API at
/// `https://<main domain>/api/v1/admin` — that the edge hands to a service of the server itself,
/// in process (a ``ServerSiteHandler``), instead of to a tunnel.
public struct ServerSiteRoute: Sendable {
    /// The server's own domain (`HOP_SERVER_DOMAIN`).
    public var domain: DomainName
    /// `/api/v1/admin`: matches the prefix itself and everything below it.
    public var pathPrefix: String
    public var handler: any ServerSiteHandler

    public init(domain: DomainName, pathPrefix: String, handler: any ServerSiteHandler) {
        self.domain = domain
        self.pathPrefix = pathPrefix
        self.handler = handler
    }

    /// Whether `path` (with its query) is the prefix or below it.
    public func matches(path: String) -> Bool {
        guard path.hasPrefix(pathPrefix) else { return false }
        let rest = path.dropFirst(pathPrefix.count)
        return rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?")
    }
}

/// Serves one exchange for the server's own site inside the server process: an
/// ``ExchangeHandler`` that is also told the public client's address, which the edge took from
/// the socket (the service trusts it as it is, and no `X-Forwarded-For` header).
///
/// Throwing before writing a head makes the edge answer 502; after, the public response is cut
/// off (reset).
public protocol ServerSiteHandler: Sendable {
    /// Runs on the caller's executor (`nonisolated(nonsending)`), as the router does.
    nonisolated(nonsending) func handle(
        _ head: ExchangeRequestHead, peer: PeerAddress,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws
}
