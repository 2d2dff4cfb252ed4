public import HopGateDomain

extension TunnelWelcome {
    /// The deadlines of the session this welcome admits: silence for ``HeartbeatRule``'s
    /// missed beats at ``heartbeatInterval``, and ``drainTimeout``.
    public var lifecycleConfiguration: TunnelLifecycle<ContinuousClock.Instant>.Configuration {
        .init(heartbeatTimeout: HeartbeatRule.timeout(forInterval: heartbeatInterval), drainTimeout: drainTimeout)
    }

    /// The server side's lifecycle of the session this welcome admits, accepted at `now`.
    public func acceptedLifecycle(at now: ContinuousClock.Instant = .now) -> TunnelLifecycle<ContinuousClock.Instant> {
        var lifecycle = TunnelLifecycle(startedAt: now, configuration: lifecycleConfiguration)
        _ = lifecycle.handle(.accepted(at: now))
        return lifecycle
    }
}
