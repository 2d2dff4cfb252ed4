/// What happens when a second tunnel arrives for a domain that already has one.
///
/// The default is ``pool(maximum:)``: tunnels are **added**. New requests are spread
/// round-robin over the active tunnels, so two clients of one domain share the load, and when
/// one goes away the others keep serving (failover). Beyond `maximum`, a new tunnel is refused.
/// ``replace`` instead makes the newest tunnel the only one that gets new requests; older ones
/// drain (their in-flight exchanges finish) and close.
public enum TunnelAdmissionPolicy: Sendable, Hashable {
    case pool(maximum: Int)
    case replace

    /// Up to 8 tunnels per domain, load-balanced.
    public static let `default` = TunnelAdmissionPolicy.pool(maximum: 8)
}

/// The tunnels of one domain: which are admitted, which take new requests and which drain.
/// Which active tunnel gets a request is ``TunnelRoutes``' choice (by path, round-robin).
public struct DomainTunnelSet<ID: Hashable & Sendable>: Sendable {
    /// The outcome of ``admit(_:)``.
    public enum Admission: Sendable, Hashable {
        /// Admitted; the listed older tunnels must drain (``TunnelAdmissionPolicy/replace``).
        case admitted(replacing: [ID])
        /// Refused: the domain has `maximum` active tunnels already.
        case refusedTooMany(maximum: Int)
    }

    public let policy: TunnelAdmissionPolicy
    /// Tunnels that take new requests, oldest first.
    public private(set) var active: [ID] = []
    /// Tunnels finishing their in-flight requests; they take no new ones.
    public private(set) var draining: Set<ID> = []

    public init(policy: TunnelAdmissionPolicy = .default) { self.policy = policy }

    /// Whether no tunnel, active or draining, is left.
    public var isEmpty: Bool { active.isEmpty && draining.isEmpty }

    /// Decides whether tunnel `id` joins, by the policy.
    public mutating func admit(_ id: ID) -> Admission {
        switch policy {
        case .pool(let maximum):
            guard active.count < maximum else { return .refusedTooMany(maximum: maximum) }
            active.append(id)
            return .admitted(replacing: [])
        case .replace:
            let older = active
            draining.formUnion(older)
            active = [id]
            return .admitted(replacing: older)
        }
    }

    /// Moves `id` out of rotation; it keeps serving what it already has.
    public mutating func startDraining(_ id: ID) {
        guard let index = active.firstIndex(of: id) else { return }
        active.remove(at: index)
        draining.insert(id)
    }

    /// Forgets `id` entirely (its transport closed).
    public mutating func remove(_ id: ID) {
        if let index = active.firstIndex(of: id) { active.remove(at: index) }
        draining.remove(id)
    }
}
