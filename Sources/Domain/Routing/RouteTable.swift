/// Routes a request by host (exact match) and then by the longest path prefix on segment
/// boundaries, to a `Target` (a tunnel's domain on the server, a local service on the client).
///
/// Lookup costs one hash lookup for the host plus one per path segment, whatever the number of
/// hosts or routes; the result is deterministic because each (host, prefix) pair is unique.
public struct RouteTable<Target: Sendable>: Sendable {
    /// One entry of the table.
    public struct Route: Sendable {
        /// The host this route serves.
        public var host: DomainName
        /// The path prefix this route serves.
        public var prefix: PathPrefix
        /// Where matching requests go.
        public var target: Target
        /// Whether the prefix is removed from the path handed to the target.
        public var stripPrefix: Bool

        public init(host: DomainName, prefix: PathPrefix = .root, target: Target, stripPrefix: Bool = false) {
            self.host = host
            self.prefix = prefix
            self.target = target
            self.stripPrefix = stripPrefix
        }
    }

    /// The outcome of a lookup.
    public struct Match: Sendable {
        /// The route that matched.
        public var route: Route
        /// The path (and query) to hand to the target: the original one, or without the prefix
        /// when the route strips it (never empty: at least `/`).
        public var forwardedPath: String
    }

    private var routes: [DomainName: [PathPrefix: Route]] = [:]

    public init() {}

    public init(_ routes: [Route]) throws(RouteTableError) {
        for route in routes { try add(route) }
    }

    /// The number of routes.
    public var count: Int { routes.values.reduce(0) { $0 + $1.count } }

    /// All routes, sorted by host then prefix.
    public var allRoutes: [Route] {
        routes.keys.sorted().flatMap { host in routes[host]!.keys.sorted().map { routes[host]![$0]! } }
    }

    /// The routes of `host`, sorted by prefix.
    public func routes(for host: DomainName) -> [Route] {
        guard let byPrefix = routes[host] else { return [] }
        return byPrefix.keys.sorted().map { byPrefix[$0]! }
    }

    /// Adds a route. - Throws: ``RouteTableError`` when the same host and prefix are taken.
    public mutating func add(_ route: Route) throws(RouteTableError) {
        if routes[route.host]?[route.prefix] != nil { throw RouteTableError(host: route.host, prefix: route.prefix) }
        routes[route.host, default: [:]][route.prefix] = route
    }

    /// Adds or replaces the route for the same host and prefix.
    public mutating func upsert(_ route: Route) {
        routes[route.host, default: [:]][route.prefix] = route
    }

    /// Removes every route of `host`.
    public mutating func removeAll(for host: DomainName) { routes[host] = nil }

    /// Removes one route; returns it if it existed.
    @discardableResult
    public mutating func remove(host: DomainName, prefix: PathPrefix) -> Route? {
        let removed = routes[host]?.removeValue(forKey: prefix)
        if routes[host]?.isEmpty == true { routes[host] = nil }
        return removed
    }

    /// The route for `host` whose prefix is the longest one containing `path`, compared in its
    /// normalised form (``RequestPath``: `/api/../admin` is under `/admin`, not `/api`). The
    /// asterisk form (`OPTIONS *`) goes to the root route.
    /// - Parameter path: a request target in origin form, e.g. `/api/users?page=2`, or `*`.
    public func lookup(host: DomainName, path: String) -> Match? {
        guard let byPrefix = routes[host] else { return nil }
        // One root route (a domain served by clients that advertise nothing) needs no matching.
        if byPrefix.count == 1, let root = byPrefix[.root] { return Match(route: root, forwardedPath: path.isEmpty ? "/" : path) }
        let request = RequestPath(target: path.isEmpty ? "/" : path)
        if request.path == "*" {
            return byPrefix[.root].map { Match(route: $0, forwardedPath: path) }
        }
        // Walk the candidate prefixes from the whole path up to the root, one segment at a time.
        var candidate = Substring(request.path)
        while true {
            if candidate.count > 1 && candidate.hasSuffix("/") { candidate = candidate.dropLast() }
            if let route = byPrefix[.unchecked(String(candidate))] {
                return Match(route: route, forwardedPath: Self.forwardedPath(path, request, route: route))
            }
            if candidate == "/" { return nil }
            guard let slash = candidate.lastIndex(of: "/") else { return nil }
            candidate = slash == candidate.startIndex ? "/" : candidate[..<slash]
        }
    }

    /// The target as the client sent it, or — when the route strips its prefix — the normalised
    /// path without the prefix (at least `/`) followed by the original query.
    private static func forwardedPath(_ original: String, _ request: RequestPath, route: Route) -> String {
        guard route.stripPrefix, route.prefix != .root else { return original.isEmpty ? "/" : original }
        let rest = request.path.dropFirst(route.prefix.value.count)
        return (rest.isEmpty ? "/" : String(rest)) + request.suffix
    }
}

/// Why a route cannot be added.
public struct RouteTableError: Error, Sendable, Hashable, CustomStringConvertible {
    public let host: DomainName
    public let prefix: PathPrefix
    public var description: String { "a route for \(host)\(prefix.value == "/" ? "" : prefix.value) already exists" }
}
