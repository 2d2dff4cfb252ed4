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
        #expect(!throttle.recordFailure(from: "192.0.2.1"))
        #expect(!throttle.recordFailure(from: "192.0.2.1"))
        #expect(throttle.retryDelay(for: "192.0.2.1") == nil)
        #expect(throttle.recordFailure(from: "192.0.2.1"), "the third failure locks the address out")
        #expect(throttle.retryDelay(for: "192.0.2.1") == .seconds(30))
        #expect(throttle.retryDelay(for: "192.0.2.2") == nil, "other addresses are not affected")
        time.advance(.seconds(29))
        #expect(throttle.retryDelay(for: "192.0.2.1") == .seconds(1))
        time.advance(.seconds(1))
        #expect(throttle.retryDelay(for: "192.0.2.1") == nil)
        #expect(!throttle.recordFailure(from: "192.0.2.1"), "the count starts again after a lockout")
    }

    @Test func failuresOutsideTheWindowAndBeforeASuccessDoNotCount() {
        let time = Time()
        let throttle = makeThrottle(time)
        throttle.recordFailure(from: "a")
        throttle.recordFailure(from: "a")
        time.advance(.seconds(61))
        #expect(!throttle.recordFailure(from: "a"), "the two earlier failures left the window")
        throttle.recordFailure(from: "b")
        throttle.recordFailure(from: "b")
        throttle.recordSuccess(from: "b")
        #expect(!throttle.recordFailure(from: "b"), "a success forgets the failures")
    }

    @Test func zeroTurnsThrottlingOff() {
        let throttle = makeThrottle(Time(), maximumFailures: 0)
        for _ in 0..<100 { #expect(!throttle.recordFailure(from: "a")) }
        #expect(throttle.retryDelay(for: "a") == nil)
    }

    @Test func theTableIsBoundedAndForgetsTheLeastRecentAddress() {
        let time = Time()
        let throttle = makeThrottle(time, maximumFailures: 2, tracked: 2)
        throttle.recordFailure(from: "old")
        time.advance(.seconds(1))
        throttle.recordFailure(from: "recent")
        time.advance(.seconds(1))
        throttle.recordFailure(from: "new")  // evicts "old"
        #expect(!throttle.recordFailure(from: "old"), "old's first failure was forgotten")
        #expect(throttle.recordFailure(from: "new"))
    }

    @Test(arguments: [
        ("ipv4:192.0.2.1:5000", "192.0.2.1"), ("ipv6:[2001:db8::1]:443", "2001:db8::1"), ("[::1]:80", "::1"),
        ("192.0.2.1:5000", "192.0.2.1"), ("192.0.2.1", "192.0.2.1"), ("2001:db8::2", "2001:db8::2"),
    ])
    func peerAddresses(peer: String, address: String) {
        #expect(AuthenticationThrottle.address(ofPeer: peer) == address)
    }
}
