public import HopGateDomain

/// Requests for the server's own domain under a path prefix — the admin API at
/// `https://<main domain>/api/v1/admin` — that the edge hands to a service of the server itself
/// (through a ``LocalForwarder``) instead of to a tunnel.
public struct ServerSiteRoute: Sendable {
    /// The server's own domain (`HOP_SERVER_DOMAIN`).
    public var domain: DomainName
    /// `/api/v1/admin`: matches the prefix itself and everything below it.
    public var pathPrefix: String
    public var forwarder: any LocalForwarder
    /// Where the service listens; read per request (it may bind a port chosen at start).
    public var target: @Sendable () -> LocalTarget

    public init(domain: DomainName, pathPrefix: String, forwarder: any LocalForwarder, target: @escaping @Sendable () -> LocalTarget) {
        self.domain = domain
        self.pathPrefix = pathPrefix
        self.forwarder = forwarder
        self.target = target
    }

    /// Whether `path` (with its query) is the prefix or below it.
    public func matches(path: String) -> Bool {
        guard path.hasPrefix(pathPrefix) else { return false }
        let rest = path.dropFirst(pathPrefix.count)
        return rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?")
    }
}
