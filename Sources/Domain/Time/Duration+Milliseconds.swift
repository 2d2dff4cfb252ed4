/// The one place a `Duration` becomes whole units for logs, protocol fields and timers: each
/// reads the duration's components once, so the seconds and the fraction always come from the
/// same reading (a log line's `duration_ms` once took them from two clock readings).
extension Duration {
    /// Whole milliseconds, rounded towards zero.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1000 &+ attoseconds / 1_000_000_000_000_000
    }

    /// Milliseconds with a tenth of a millisecond kept, for log lines (`"duration_ms": 12.3`).
    public var millisecondsToTenths: Double {
        let (seconds, attoseconds) = components
        let tenths = seconds &* 10_000 &+ attoseconds / 100_000_000_000_000
        return Double(tenths) / 10
    }

    /// Whole nanoseconds, rounded towards zero (for NIO's `TimeAmount`).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
