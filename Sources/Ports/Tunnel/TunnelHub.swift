public import HopGateDomain
public import Logging
import Synchronization

/// The server's registry of tunnels: checks hellos against the domain store, binds each
/// admitted tunnel to its domain only, and hands the proxy a tunnel for a domain.
///
/// The rule for several tunnels of one domain is ``TunnelAdmissionPolicy`` (default: pooled
/// and load-balanced round-robin, at most 8). Unregistering a domain or rotating its key
/// closes its tunnels at once.
public final class TunnelHub: TunnelAcceptor, DomainLifecycleObserver {
    /// Settings of the hub.
    public struct Configuration: Sendable {
        public var policy: TunnelAdmissionPolicy
        /// Told to clients in the welcome.
        public var heartbeatInterval: Duration
        public var serverVersion: String
        public init(policy: TunnelAdmissionPolicy = .default, heartbeatInterval: Duration = .seconds(10), serverVersion: String) {
            self.policy = policy
            self.heartbeatInterval = heartbeatInterval
            self.serverVersion = serverVersion
        }
    }

    private struct Entry {
        let domain: DomainName
        var connection: (any TunnelConnection)?
    }

    private struct State {
        var byDomain: [DomainName: DomainTunnelSet<TunnelID>] = [:]
        var entries: [TunnelID: Entry] = [:]
        var acceptingTunnels = true
        /// Tunnels past their welcome (admitted ones still sending it are not counted).
        var openCount: Int { entries.values.reduce(0) { $0 + ($1.connection == nil ? 0 : 1) } }
    }

    private let administration: DomainAdministration
    private let configuration: Configuration
    private let throttle: AuthenticationThrottle
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameter throttle: turns away addresses whose hellos failed authentication too often.
    public init(administration: DomainAdministration, configuration: Configuration, throttle: AuthenticationThrottle = .init(), logger: Logger) {
        self.administration = administration
        self.configuration = configuration
        self.throttle = throttle
        var logger = logger
        logger[metadataKey: "component"] = "tunnel_hub"
        self.logger = logger
    }

    // MARK: Proxy side

    /// A tunnel that takes new exchanges for `domain`, chosen round-robin, or nil.
    public func connection(for domain: DomainName) -> (any TunnelConnection)? {
        state.withLock { state in
            guard var set = state.byDomain[domain] else { return nil }
            defer { state.byDomain[domain] = set }
            for _ in 0..<set.active.count {
                if let id = set.next(), let connection = state.entries[id]?.connection { return connection }
            }
            return nil
        }
    }

    /// Whether `domain` has at least one tunnel taking exchanges.
    public func hasTunnel(for domain: DomainName) -> Bool { connection(for: domain) != nil }

    /// The number of open tunnels (active and draining). A tunnel counts once it is routable
    /// (``tunnelOpened(_:)``), not while its welcome is still being sent.
    public var tunnelCount: Int { state.withLock { $0.openCount } }

    /// Stops admitting tunnels and asks every open tunnel to drain (graceful shutdown).
    public func drainAll() async {
        let connections = state.withLock { state in
            state.acceptingTunnels = false
            for domain in state.byDomain.keys {
                for id in state.byDomain[domain]!.active { state.byDomain[domain]!.startDraining(id) }
            }
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
        let record: DomainRecord?
        do { record = try await administration.verify(domain: domain, key: key) } catch {
            throw TunnelRefusal(.unavailable, "the domain store is unavailable; retry later")
        }
        guard record != nil else {
            throw TunnelRefusal(.permissionDenied, "the domain \(domain) is not registered or the client API key does not match it")
        }
        let id = TunnelID()
        let (admission, replaced) = state.withLock { state -> (DomainTunnelSet<TunnelID>.Admission, [any TunnelConnection]) in
            var set = state.byDomain[domain] ?? DomainTunnelSet(policy: configuration.policy)
            let admission = set.admit(id)
            state.byDomain[domain] = set
            guard case .admitted(let older) = admission else { return (admission, []) }
            state.entries[id] = Entry(domain: domain, connection: nil)
            return (admission, older.compactMap { state.entries[$0]?.connection })
        }
        if case .refusedTooMany(let maximum) = admission {
            throw TunnelRefusal(.tooManyTunnels, "the domain \(domain) already has \(maximum) tunnels")
        }
        for connection in replaced { await connection.drain() }
        return TunnelWelcome(tunnelID: id, domain: domain, heartbeatInterval: configuration.heartbeatInterval, serverVersion: configuration.serverVersion)
    }

    public func tunnelWantsToLeave(_ id: TunnelID) async {
        let connection = state.withLock { state -> (any TunnelConnection)? in
            guard let entry = state.entries[id] else { return nil }
            state.byDomain[entry.domain]?.startDraining(id)
            return entry.connection
        }
        guard let connection else { return }
        logger.info("tunnel leaving at the client's request", metadata: ["tunnel_id": "\(id)"])
        await connection.drain()
    }

    public func tunnelOpened(_ connection: any TunnelConnection) async {
        let (known, count) = state.withLock { state -> (Bool, Int) in
            guard state.entries[connection.id] != nil else { return (false, state.openCount) }
            state.entries[connection.id]!.connection = connection
            return (true, state.openCount)
        }
        HopGateMetrics.setActiveTunnels(count)
        if !known { await connection.close() }
    }

    public func tunnelClosed(_ id: TunnelID, reason: TunnelCloseReason) async {
        let (domain, count) = state.withLock { state -> (DomainName?, Int) in
            guard let entry = state.entries.removeValue(forKey: id) else { return (nil, state.openCount) }
            state.byDomain[entry.domain]?.remove(id)
            if state.byDomain[entry.domain]?.isEmpty == true { state.byDomain[entry.domain] = nil }
            return (entry.domain, state.openCount)
        }
        HopGateMetrics.setActiveTunnels(count)
        if let domain {
            logger.info("tunnel closed", metadata: ["domain": "\(domain)", "tunnel_id": "\(id)", "reason": "\(reason)"])
        }
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
