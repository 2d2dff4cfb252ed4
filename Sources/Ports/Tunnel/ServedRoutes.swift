public import HopGateDomain

/// Which path prefixes of a domain are served now, and by how many tunnels: what the admin
/// API's status shows. ``TunnelHub`` is the one that knows.
public protocol ServedRoutes: Sendable {
    /// `domain`'s routes by prefix, each with the number of tunnels taking its requests.
    func routes(of domain: DomainName) -> [(prefix: PathPrefix, tunnels: Int)]
}

extension TunnelHub: ServedRoutes {}

/// No tunnels at all: for an admin API that runs without a hub (tests, tools).
public struct NoServedRoutes: ServedRoutes {
    public init() {}
    public func routes(of domain: DomainName) -> [(prefix: PathPrefix, tunnels: Int)] { [] }
}
