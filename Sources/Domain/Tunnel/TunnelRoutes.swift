/// Which tunnel serves a request, by host and the longest path prefix its tunnels advertise.
///
/// Each tunnel that takes new requests contributes its advertised prefixes (none means `/`);
/// tunnels that advertise the same prefix for a domain are pooled, and requests for that route
/// go round-robin over them. A route lives as long as one tunnel serves it: when the last
/// tunnel for `/api` leaves, `/api/x` goes to the longest prefix still served (often `/`),
/// exactly as if that client had never connected. Matching is ``RouteTable``'s: on segment
/// boundaries, after normalising the path (``RequestPath``).
public struct TunnelRoutes<ID: Hashable & Sendable>: Sendable {
    private struct Key: Hashable {
        let host: DomainName
        let prefix: PathPrefix
    }

    private var table = RouteTable<[ID]>()
    /// The next position of each route's round-robin.
    private var cursors: [Key: Int] = [:]

    public init() {}

    /// The number of routes served, over all domains.
    public var count: Int { table.count }

    /// Replaces the routes of `host` with those of `tunnels` (in the order given: the first
    /// tunnel of a route is picked first).
    public mutating func replaceRoutes(of host: DomainName, with tunnels: [(id: ID, prefixes: [PathPrefix])]) {
        table.removeAll(for: host)
        var pools: [PathPrefix: [ID]] = [:]
        var order: [PathPrefix] = []
        for tunnel in tunnels {
            for prefix in tunnel.prefixes.isEmpty ? [.root] : tunnel.prefixes {
                if pools[prefix] == nil { order.append(prefix) }
                if pools[prefix]?.contains(tunnel.id) != true { pools[prefix, default: []].append(tunnel.id) }
            }
        }
        for prefix in order { table.upsert(.init(host: host, prefix: prefix, target: pools[prefix]!)) }
        cursors = cursors.filter { $0.key.host != host || pools[$0.key.prefix] != nil }
    }

    /// The tunnel for a request to `path` on `host`: the first one, from the route's turn on,
    /// that `isUsable` accepts (the turn moves past it); nil when no route matches or none of
    /// its tunnels is usable. Tunnels of shorter prefixes are never tried instead.
    public mutating func next(host: DomainName, path: String, where isUsable: (ID) -> Bool) -> ID? {
        next(host: host, path: path, preferring: { _ in false }, where: isUsable)
    }

    /// As ``next(host:path:where:)``, but a usable tunnel of the route that `isPreferred`
    /// accepts goes first (the edge prefers a tunnel whose connection shares the calling
    /// event loop); the others are taken, in turn, only when no preferred one is usable.
    /// (Not an optional closure: that would escape, and cost an allocation per request.)
    public mutating func next(host: DomainName, path: String, preferring isPreferred: (ID) -> Bool, where isUsable: (ID) -> Bool) -> ID? {
        guard let match = table.lookup(host: host, path: path) else { return nil }
        let pool = match.route.target
        let key = Key(host: host, prefix: match.route.prefix)
        // The turn counts requests, not positions, so it keeps moving when the pool changes.
        let turn = cursors[key, default: 0]
        if pool.count > 1 {
            for step in 0..<pool.count {
                let id = pool[(turn + step) % pool.count]
                if isPreferred(id), isUsable(id) {
                    cursors[key] = (turn &+ step &+ 1) & Int.max  // never negative
                    return id
                }
            }
        }
        for step in 0..<pool.count {
            let id = pool[(turn + step) % pool.count]
            if isUsable(id) {
                cursors[key] = (turn &+ step &+ 1) & Int.max
                return id
            }
        }
        return nil
    }

    /// The routes of `host`: each prefix with the number of tunnels serving it, by prefix.
    public func routes(of host: DomainName) -> [(prefix: PathPrefix, tunnels: Int)] {
        table.routes(for: host).map { ($0.prefix, $0.target.count) }
    }
}
