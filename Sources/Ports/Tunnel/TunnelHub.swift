public import HopGateDomain
public import Logging
public import Metrics
import Synchronization

/// The server's registry of tunnels: checks hellos against the domain store, binds each
/// admitted tunnel to its domain only, and hands the proxy a tunnel for a request.
///
/// A request goes to a tunnel whose advertised path prefix is the longest match for its path
/// (``TunnelRoutes``; a tunnel that advertises nothing serves `/`). The rule for several
/// tunnels of one domain is ``TunnelAdmissionPolicy`` (default: pooled, at most 8); tunnels
/// with the same prefix share its requests round-robin. Unregistering a domain or rotating its
/// key closes its tunnels at once.
public final class TunnelHub: TunnelAcceptor, DomainLifecycleObserver {
    /// Settings of the hub.
    public struct Configuration: Sendable {
        public var policy: TunnelAdmissionPolicy
        /// Told to clients in the welcome.
        public var heartbeatInterval: Duration
        public var serverVersion: String
        /// How long a draining tunnel's in-flight exchanges may take before the tunnel is closed
        /// (``TunnelCloseReason/drainTimeout``). Default 30 s.
        public var drainTimeout: Duration
        public init(
            policy: TunnelAdmissionPolicy = .default, heartbeatInterval: Duration = .seconds(10), serverVersion: String,
            drainTimeout: Duration = TunnelLifecycle<ContinuousClock.Instant>.Configuration().drainTimeout
        ) {
            self.policy = policy
            self.heartbeatInterval = heartbeatInterval
            self.serverVersion = serverVersion
            self.drainTimeout = drainTimeout
        }
    }

    private struct Entry {
        let domain: DomainName
        /// The prefixes the tunnel advertised (empty: `/`).
        let prefixes: [PathPrefix]
        /// The advertised prefixes whose client strips them.
        let stripped: Set<PathPrefix>
        var connection: (any TunnelConnection)?
        /// The edge event loop its connection runs on, once the transport told.
        var placement: TunnelPlacement?
    }

    private struct State {
        var byDomain: [DomainName: DomainTunnelSet<TunnelID>] = [:]
        var entries: [TunnelID: Entry] = [:]
        /// The routes of the tunnels that take new exchanges and are past their welcome.
        var routes = TunnelRoutes<TunnelID>()
        var acceptingTunnels = true
        var spread = TunnelLoopSpread<DomainName>()
        /// Tunnels past their welcome (admitted ones still sending it are not counted).
        var openCount: Int { entries.values.reduce(0) { $0 + ($1.connection == nil ? 0 : 1) } }

        /// Recomputes `domain`'s routes after a tunnel of it opened, started draining or closed.
        mutating func updateRoutes(of domain: DomainName) {
            let active = byDomain[domain]?.active ?? []
            routes.replaceRoutes(of: domain, with: active.compactMap { id in
                guard let entry = entries[id], entry.connection != nil else { return nil }
                return (id, entry.prefixes)
            })
        }
    }

    /// The most services (path prefixes) one hello may advertise.
    public static let maximumServices = 64

    private let administration: DomainAdministration
    private let configuration: Configuration
    private let throttle: AuthenticationThrottle
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private let state = Mutex(State())

    /// - Parameters:
    ///   - throttle: turns away addresses whose hellos failed authentication too often.
    ///   - metrics: where the tunnel and route gauges go; nil for the process's metrics system.
    public init(
        administration: DomainAdministration, configuration: Configuration, throttle: AuthenticationThrottle = .init(),
        logger: Logger, metrics: (any MetricsFactory)? = nil
    ) {
        self.administration = administration
        self.configuration = configuration
        self.throttle = throttle
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "tunnel_hub"
        self.logger = logger
    }

    // MARK: Proxy side

    /// A tunnel that takes new exchanges for `path` on `domain`: one of those serving the
    /// longest advertised prefix that matches, chosen round-robin, or nil. A tunnel whose
    /// connection runs on the caller's event loop (``TunnelConnection/isOnCurrentEventLoop``)
    /// goes first: a client that holds a tunnel on each of the edge's loops (`--tunnels`) has
    /// each exchange served without a hop between the edge's threads.
    /// - Parameters:
    ///   - path: the request target (`/api/users?x=1`, or `*`).
    ///   - excluded: tunnels not to choose (those a retried request already failed on).
    public func connection(for domain: DomainName, path: String = "/", excluding excluded: Set<TunnelID> = []) -> (any TunnelConnection)? {
        state.withLock { state in
            let entries = state.entries
            let id = state.routes.next(host: domain, path: path, preferring: { id in entries[id]?.connection?.isOnCurrentEventLoop == true }) { id in
                !excluded.contains(id) && entries[id]?.connection != nil
            }
            return id.flatMap { entries[$0]?.connection }
        }
    }

    /// Whether `domain` has at least one tunnel taking exchanges for `/`.
    public func hasTunnel(for domain: DomainName) -> Bool { connection(for: domain) != nil }

    /// The routes `domain` is served on now: each advertised prefix with the number of tunnels
    /// taking its requests (draining ones are not counted), by prefix.
    public func routes(of domain: DomainName) -> [(prefix: PathPrefix, tunnels: Int)] {
        state.withLock { $0.routes.routes(of: domain) }
    }

    /// The number of open tunnels (active and draining). A tunnel counts once it is routable
    /// (``tunnelOpened(_:)``), not while its welcome is still being sent.
    public var tunnelCount: Int { state.withLock { $0.openCount } }

    /// Stops admitting tunnels and asks every open tunnel to drain (graceful shutdown).
    public func drainAll() async {
        let connections = state.withLock { state in
            state.acceptingTunnels = false
            for domain in state.byDomain.keys {
                for id in state.byDomain[domain]!.active { state.byDomain[domain]!.startDraining(id) }
                state.updateRoutes(of: domain)
            }
            publishCounts(of: state)
            return state.entries.values.compactMap(\.connection)
        }
        for connection in connections { await connection.drain() }
    }

    // MARK: TunnelAcceptor

    public func admit(_ hello: TunnelHello, peer: PeerAddress) async throws(TunnelRefusal) -> TunnelWelcome {
        var log = logger
        log[metadataKey: "peer"] = "\(peer)"
        log[metadataKey: "client"] = "\(hello.clientName)/\(hello.clientVersion)"
        let address = peer
        do throws(TunnelRefusal) {
            if let delay = throttle.retryDelay(for: address) {
                throw TunnelRefusal(.unavailable, "too many failed authentications from \(address); retry in \(delay.components.seconds + 1) s")
            }
            let welcome: TunnelWelcome
            do throws(TunnelRefusal) { welcome = try await check(hello) } catch {
                if error.code == .unauthenticated || error.code == .permissionDenied, throttle.recordFailure(from: address) {
                    log.warning("address turned away after repeated authentication failures", metadata: [
                        "address": "\(address)", "lockout_s": "\(throttle.policy.lockout.components.seconds)"])
                }
                throw error
            }
            throttle.recordSuccess(from: address)
            HopGateMetrics.recordHandshake(outcome: "admitted")
            log.info("tunnel admitted", metadata: ["domain": "\(welcome.domain)", "tunnel_id": "\(welcome.tunnelID)"])
            return welcome
        } catch {
            HopGateMetrics.recordHandshake(outcome: error.code.rawValue)
            log.warning("tunnel refused", metadata: ["domain": "\(hello.domain.prefix(253))", "code": "\(error.code.rawValue)", "reason": "\(error.reason)"])
            throw error
        }
    }

    private func check(_ hello: TunnelHello) async throws(TunnelRefusal) -> TunnelWelcome {
        guard state.withLock({ $0.acceptingTunnels }) else { throw TunnelRefusal(.unavailable, "the server is shutting down") }
        let domain: DomainName
        do { domain = try DomainName(parsing: hello.domain) } catch { throw TunnelRefusal(.invalidHello, error.message) }
        let key: ClientAPIKey
        do { key = try ClientAPIKey(parsing: hello.clientAPIKey) } catch { throw TunnelRefusal(.unauthenticated, error.message) }
        guard hello.services.count <= Self.maximumServices else {
            throw TunnelRefusal(.invalidHello, "a client may advertise at most \(Self.maximumServices) services, not \(hello.services.count)")
        }
        var prefixes: [PathPrefix] = []
        var stripped: Set<PathPrefix> = []
        for service in hello.services {
            do { prefixes.append(try PathPrefix(parsing: service.pathPrefix)) } catch {
                throw TunnelRefusal(.invalidHello, "the service '\(service.name.prefix(64))' advertises \(error)")
            }
            if service.stripPrefix { stripped.insert(prefixes.last!) }
        }
        let record: DomainRecord?
        do { record = try await administration.verify(domain: domain, key: key) } catch {
            throw TunnelRefusal(.unavailable, "the domain store is unavailable; retry later")
        }
        guard record != nil else {
            throw TunnelRefusal(.permissionDenied, "the domain \(domain) is not registered or the client API key does not match it")
        }
        let id = TunnelID()
        let (admission, replaced, disagreeing) = state.withLock { state -> (DomainTunnelSet<TunnelID>.Admission, [any TunnelConnection], [PathPrefix]) in
            var set = state.byDomain[domain] ?? DomainTunnelSet(policy: configuration.policy)
            let admission = set.admit(id)
            state.byDomain[domain] = set
            guard case .admitted(let older) = admission else { return (admission, [], []) }
            // Pooled tunnels that disagree on stripping a prefix hand the service different paths.
            let disagreeing = prefixes.filter { prefix in
                set.active.contains { other in
                    guard let entry = state.entries[other], entry.prefixes.contains(prefix) else { return false }
                    return entry.stripped.contains(prefix) != stripped.contains(prefix)
                }
            }
            state.entries[id] = Entry(domain: domain, prefixes: prefixes, stripped: stripped, connection: nil)
            if !older.isEmpty {
                state.updateRoutes(of: domain)
                publishCounts(of: state)
            }
            return (admission, older.compactMap { state.entries[$0]?.connection }, disagreeing)
        }
        if !disagreeing.isEmpty {
            logger.warning("tunnels pooled on a prefix disagree on stripping it", metadata: [
                "domain": "\(domain)", "prefixes": "\(disagreeing.map(\.value).joined(separator: ","))", "tunnel_id": "\(id)"])
        }
        if case .refusedTooMany(let maximum) = admission {
            throw TunnelRefusal(.tooManyTunnels, "the domain \(domain) already has \(maximum) tunnels")
        }
        for connection in replaced { await connection.drain() }
        return TunnelWelcome(
            tunnelID: id, domain: domain, heartbeatInterval: configuration.heartbeatInterval, serverVersion: configuration.serverVersion,
            drainTimeout: configuration.drainTimeout)
    }

    public func tunnelWantsToLeave(_ id: TunnelID) async {
        let connection = state.withLock { state -> (any TunnelConnection)? in
            guard let entry = state.entries[id] else { return nil }
            state.byDomain[entry.domain]?.startDraining(id)
            state.updateRoutes(of: entry.domain)
            publishCounts(of: state)
            return entry.connection
        }
        guard let connection else { return }
        logger.info("tunnel leaving at the client's request", metadata: ["tunnel_id": "\(id)"])
        await connection.drain()
    }

    public func tunnelOpened(_ connection: any TunnelConnection) async {
        let known = state.withLock { state -> Bool in
            guard let entry = state.entries[connection.id] else { return false }
            state.entries[connection.id]!.connection = connection
            state.updateRoutes(of: entry.domain)
            publishCounts(of: state)
            return true
        }
        if !known { await connection.close() }
    }

    /// Redraws a tunnel that landed on an event loop another tunnel of its route already has,
    /// while some loop has none (``TunnelLoopSpread``): it takes no new exchanges and is
    /// drained, and its client reconnects.
    public func tunnelPlaced(_ id: TunnelID, on placement: TunnelPlacement) async {
        logger.debug("tunnel placed", metadata: ["tunnel_id": "\(id)", "placement": "\(placement)"])
        let redrawn = state.withLock { state -> (connection: any TunnelConnection, domain: DomainName)? in
            guard state.entries[id] != nil else { return nil }
            state.entries[id]!.placement = placement
            let entry = state.entries[id]!
            guard let connection = entry.connection, let set = state.byDomain[entry.domain], set.active.contains(id) else { return nil }
            let route = Set(entry.prefixes)
            let siblingLoops = set.active.compactMap { other -> Int? in
                guard other != id, let sibling = state.entries[other], sibling.connection != nil, Set(sibling.prefixes) == route,
                      let siblingPlacement = sibling.placement, siblingPlacement.loops == placement.loops
                else { return nil }
                return siblingPlacement.loop
            }
            guard state.spread.shouldRedraw(entry.domain, landedOn: placement.loop, siblingsOn: siblingLoops, loops: placement.loops, at: .now)
            else { return nil }
            state.byDomain[entry.domain]?.startDraining(id)
            state.updateRoutes(of: entry.domain)
            publishCounts(of: state)
            return (connection, entry.domain)
        }
        guard let redrawn else { return }
        logger.info("tunnel redrawn: another tunnel of its route has its edge event loop while a loop has none; it drains and its client reconnects",
                    metadata: ["domain": "\(redrawn.domain)", "tunnel_id": "\(id)", "placement": "\(placement)"])
        await redrawn.connection.drain()
    }

    public func tunnelClosed(_ id: TunnelID, reason: TunnelCloseReason) async {
        let domain = state.withLock { state -> DomainName? in
            guard let entry = state.entries.removeValue(forKey: id) else { return nil }
            state.byDomain[entry.domain]?.remove(id)
            if state.byDomain[entry.domain]?.isEmpty == true {
                state.byDomain[entry.domain] = nil
                state.spread.forget(entry.domain)
            }
            state.updateRoutes(of: entry.domain)
            publishCounts(of: state)
            return entry.domain
        }
        if let domain {
            logger.info("tunnel closed", metadata: ["domain": "\(domain)", "tunnel_id": "\(id)", "reason": "\(reason)"])
        }
    }

    /// Publishes the open-tunnel and route gauges. Called while holding the state's lock, so
    /// that concurrent changes publish in the order they were made: published after unlocking,
    /// the count of one of many tunnels closing at once could land last and stay (seen: the
    /// gauge at 63 with one tunnel connected, after 100 clients stopped together).
    private func publishCounts(of state: State) {
        HopGateMetrics.setActiveTunnels(state.openCount, factory: metrics)
        HopGateMetrics.setRoutes(state.routes.count, factory: metrics)
    }

    // MARK: DomainLifecycleObserver

    public func domainUnregistered(_ domain: DomainName) async { await closeTunnels(of: domain, because: "unregistered") }
    public func domainKeyRotated(_ domain: DomainName) async { await closeTunnels(of: domain, because: "key rotated") }

    private func closeTunnels(of domain: DomainName, because why: String) async {
        let connections = state.withLock { state in
            state.entries.values.filter { $0.domain == domain }.compactMap(\.connection)
        }
        if !connections.isEmpty {
            logger.info("closing tunnels", metadata: ["domain": "\(domain)", "count": "\(connections.count)", "reason": "\(why)"])
        }
        for connection in connections { await connection.close() }
    }
}
