import HopGateDomain
import HopGatePorts
import Synchronization
import Testing

@Suite("Authentication throttle")
struct AuthenticationThrottleTests {
    /// A time line that moves only when the test says so.
    final class Time: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)
        func advance(_ by: Duration) { offset.withLock { $0 += by } }
        var now: ContinuousClock.Instant { start.advanced(by: offset.withLock { $0 }) }
    }

    func makeThrottle(_ time: Time, maximumFailures: Int = 3, tracked: Int = 100) -> AuthenticationThrottle {
        AuthenticationThrottle(
            policy: .init(maximumFailures: maximumFailures, window: .seconds(60), lockout: .seconds(30), maximumTrackedAddresses: tracked),
            now: { time.now })
    }

    @Test func locksOutAfterTheMaximumAndLetsGoAfterTheLockout() {
        let time = Time()
        let throttle = makeThrottle(time)
        #expect(!throttle.recordFailure(from: PeerAddress(address: "192.0.2.1")))
        #expect(!throttle.recordFailure(from: PeerAddress(address: "192.0.2.1")))
        #expect(throttle.retryDelay(for: PeerAddress(address: "192.0.2.1")) == nil)
        #expect(throttle.recordFailure(from: PeerAddress(address: "192.0.2.1")), "the third failure locks the address out")
        #expect(throttle.retryDelay(for: PeerAddress(address: "192.0.2.1")) == .seconds(30))
        #expect(throttle.retryDelay(for: PeerAddress(address: "192.0.2.2")) == nil, "other addresses are not affected")
        time.advance(.seconds(29))
        #expect(throttle.retryDelay(for: PeerAddress(address: "192.0.2.1")) == .seconds(1))
        time.advance(.seconds(1))
        #expect(throttle.retryDelay(for: PeerAddress(address: "192.0.2.1")) == nil)
        #expect(!throttle.recordFailure(from: PeerAddress(address: "192.0.2.1")), "the count starts again after a lockout")
    }

    @Test func failuresOutsideTheWindowAndBeforeASuccessDoNotCount() {
        let time = Time()
        let throttle = makeThrottle(time)
        throttle.recordFailure(from: PeerAddress(address: "a"))
        throttle.recordFailure(from: PeerAddress(address: "a"))
        time.advance(.seconds(61))
        #expect(!throttle.recordFailure(from: PeerAddress(address: "a")), "the two earlier failures left the window")
        throttle.recordFailure(from: PeerAddress(address: "b"))
        throttle.recordFailure(from: PeerAddress(address: "b"))
        throttle.recordSuccess(from: PeerAddress(address: "b"))
        #expect(!throttle.recordFailure(from: PeerAddress(address: "b")), "a success forgets the failures")
    }

    @Test func zeroTurnsThrottlingOff() {
        let throttle = makeThrottle(Time(), maximumFailures: 0)
        for _ in 0..<100 { #expect(!throttle.recordFailure(from: PeerAddress(address: "a"))) }
        #expect(throttle.retryDelay(for: PeerAddress(address: "a")) == nil)
    }

    @Test func theTableIsBoundedAndForgetsTheLeastRecentAddress() {
        let time = Time()
        let throttle = makeThrottle(time, maximumFailures: 2, tracked: 2)
        throttle.recordFailure(from: PeerAddress(address: "old"))
        time.advance(.seconds(1))
        throttle.recordFailure(from: PeerAddress(address: "recent"))
        time.advance(.seconds(1))
        throttle.recordFailure(from: PeerAddress(address: "new"))  // evicts "old"
        #expect(!throttle.recordFailure(from: PeerAddress(address: "old")), "old's first failure was forgotten")
        #expect(throttle.recordFailure(from: PeerAddress(address: "new")))
    }

    @Test func everyPortOfOneAddressSharesItsCount() {
        let throttle = makeThrottle(Time(), maximumFailures: 2)
        throttle.recordFailure(from: PeerAddress(address: "::1", port: 50_000))
        #expect(throttle.recordFailure(from: PeerAddress(address: "::1", port: 50_001)))
        #expect(throttle.retryDelay(for: PeerAddress(address: "::1")) != nil)
    }
}
