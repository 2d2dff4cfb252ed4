import Foundation

/// When to renew a certificate and when to try again after a failure — pure rules, no I/O.
enum RenewalPlan {
    /// Renewal starts at two thirds of the lifetime unless the CA suggests a window (ARI), in
    /// which case a point `randomFraction` (0–1, chosen once per certificate) into the window
    /// spreads renewals the way RFC 9773 §4.2 asks.
    static func dueDate(notBefore: Date, notAfter: Date, window: ClosedRange<Date>?, randomFraction: Double) -> Date {
        if let window {
            let fraction = min(max(randomFraction, 0), 1)
            return window.lowerBound.addingTimeInterval(window.upperBound.timeIntervalSince(window.lowerBound) * fraction)
        }
        return notBefore.addingTimeInterval(notAfter.timeIntervalSince(notBefore) * 2 / 3)
    }

    /// The wait after `failures` consecutive failed orders: `base`, doubling, never above `cap`.
    static func backoff(afterFailures failures: Int, base: TimeInterval, cap: TimeInterval) -> TimeInterval {
        guard failures > 0 else { return 0 }
        let exponent = min(failures - 1, 30)
        return min(base * pow(2, Double(exponent)), cap)
    }

    /// How long to wait before asking the CA for renewal information again: its `Retry-After`,
    /// kept between one minute and one day (RFC 9773 §4.3 suggests six hours when absent).
    static func renewalInfoRefresh(retryAfter: TimeInterval?) -> TimeInterval {
        min(max(retryAfter ?? 6 * 3600, 60), 86_400)
    }
}
