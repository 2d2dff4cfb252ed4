/// Capped exponential backoff with full jitter for reconnecting a tunnel, as a value type:
/// the caller asks for the next delay after each failure and resets after a success.
///
/// Delay for attempt *n* (0-based) is uniformly random in `[base·2ⁿ / 2, base·2ⁿ]`, capped at
/// `maximum` ("equal jitter"): clients that lost the server at the same moment spread out
/// their retries instead of arriving together.
public struct ReconnectBackoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration
    /// Failures since the last success.
    public private(set) var attempt: Int = 0

    public init(base: Duration = .milliseconds(250), maximum: Duration = .seconds(30)) {
        precondition(base > .zero && maximum >= base, "backoff needs 0 < base <= maximum")
        self.base = base
        self.maximum = maximum
    }

    /// The delay before the next attempt; counts one more failure.
    public mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceilingDelay(forAttempt: attempt)
        attempt += 1
        let ceilingNanos = ceiling.nanoseconds
        let floor = ceilingNanos / 2
        return .nanoseconds(Int64.random(in: floor...ceilingNanos, using: &generator))
    }

    /// The delay before the next attempt, from the system random source.
    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Forgets past failures (call when a tunnel was admitted).
    public mutating func reset() { attempt = 0 }

    /// The upper bound of the delay for a given attempt, without jitter.
    public func ceilingDelay(forAttempt attempt: Int) -> Duration {
        let maximumNanos = maximum.nanoseconds
        var delay = base.nanoseconds
        for _ in 0..<min(attempt, 62) {
            if delay >= maximumNanos / 2 { return maximum }
            delay *= 2
        }
        return .nanoseconds(min(delay, maximumNanos))
    }
}
