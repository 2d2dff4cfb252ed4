public import HopGateDomain
import Synchronization

/// Counts failed authentications per source address and turns an address away for a while once
/// it has failed too often — the admin key and the clients' keys cannot be guessed online.
///
/// A success clears the address's count. Addresses are tracked in a bounded table (the oldest
/// entry gives way), so a flood from many addresses cannot grow memory without bound.
public final class AuthenticationThrottle: Sendable {
    /// When an address is turned away.
    public struct Policy: Sendable, Equatable {
        /// Failures within `window` that get an address turned away. 0 turns throttling off.
        public var maximumFailures: Int
        /// How far back failures count.
        public var window: Duration
        /// How long an address is turned away once it reached `maximumFailures`.
        public var lockout: Duration
        /// Most addresses tracked at once.
        public var maximumTrackedAddresses: Int

        public init(maximumFailures: Int = 10, window: Duration = .seconds(60), lockout: Duration = .seconds(60), maximumTrackedAddresses: Int = 10_000) {
            self.maximumFailures = maximumFailures
            self.window = window
            self.lockout = lockout
            self.maximumTrackedAddresses = maximumTrackedAddresses
        }
    }

    private struct Record {
        var failures: [ContinuousClock.Instant] = []
        var lockedUntil: ContinuousClock.Instant?
        var lastSeen: ContinuousClock.Instant
    }

    public let policy: Policy
    private let now: @Sendable () -> ContinuousClock.Instant
    private let records = Mutex<[String: Record]>([:])

    /// - Parameter now: the clock (tests pass their own).
    public init(policy: Policy = .init(), now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.policy = policy
        self.now = now
    }

    /// How long `peer`'s address is still turned away, or nil when it may try.
    public func retryDelay(for peer: PeerAddress) -> Duration? {
        let address = peer.address
        guard policy.maximumFailures > 0 else { return nil }
        let now = self.now()
        return records.withLock { records -> Duration? in
            guard let until = records[address]?.lockedUntil else { return nil }
            if until <= now {
                records[address]?.lockedUntil = nil
                records[address]?.failures = []
                return nil
            }
            return now.duration(to: until)
        }
    }

    /// Records a failed attempt from `peer`'s address (whatever its port). - Returns: true when this failure locked it out.
    @discardableResult
    public func recordFailure(from peer: PeerAddress) -> Bool {
        let address = peer.address
        guard policy.maximumFailures > 0 else { return false }
        let now = self.now()
        return records.withLock { records -> Bool in
            if records[address] == nil, records.count >= policy.maximumTrackedAddresses,
               let oldest = records.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                records[oldest] = nil
            }
            var record = records[address] ?? Record(lastSeen: now)
            record.lastSeen = now
            record.failures = record.failures.filter { $0.duration(to: now) < policy.window } + [now]
            var lockedNow = false
            if record.failures.count >= policy.maximumFailures, record.lockedUntil == nil {
                record.lockedUntil = now.advanced(by: policy.lockout)
                lockedNow = true
            }
            records[address] = record
            return lockedNow
        }
    }

    /// Records a successful authentication from `peer`'s address: its failures are forgotten.
    public func recordSuccess(from peer: PeerAddress) {
        let address = peer.address
        records.withLock { _ = $0.removeValue(forKey: address) }
    }
}
