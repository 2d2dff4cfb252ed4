import HopGateDomain
import Testing

/// A deterministic generator (SplitMix64) so jitter can be asserted.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    @Test func ceilingDoublesUpToTheCap() {
        let backoff = ReconnectBackoff(base: .milliseconds(250), maximum: .seconds(5))
        #expect((0..<7).map { backoff.ceilingDelay(forAttempt: $0) } == [
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5),
        ])
        #expect(backoff.ceilingDelay(forAttempt: 1000) == .seconds(5))
    }

    @Test func delaysAreJitteredWithinHalfToFullCeiling() {
        var backoff = ReconnectBackoff(base: .milliseconds(100), maximum: .seconds(10))
        var generator = SeededGenerator(state: 42)
        for attempt in 0..<12 {
            let ceiling = backoff.ceilingDelay(forAttempt: attempt)
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay <= ceiling && delay >= ceiling / 2, "attempt \(attempt): \(delay) vs \(ceiling)")
        }
        #expect(backoff.attempt == 12)
    }

    @Test func jitterSpreadsClients() {
        var delays = Set<Duration>()
        for seed in 0..<50 {
            var backoff = ReconnectBackoff()
            var generator = SeededGenerator(state: UInt64(seed))
            _ = backoff.nextDelay(using: &generator)
            delays.insert(backoff.nextDelay(using: &generator))
        }
        #expect(delays.count > 40)
    }

    @Test func resetStartsOver() {
        var backoff = ReconnectBackoff(base: .seconds(1), maximum: .seconds(60))
        for _ in 0..<5 { _ = backoff.nextDelay() }
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.nextDelay() <= .seconds(1))
    }
}
