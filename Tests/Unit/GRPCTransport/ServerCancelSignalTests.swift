@testable import HopGateGRPCTransport
import Synchronization
import Testing

/// The server's Cancel reaches the handler's task whether it comes before or after the task is
/// registered, once.
@Suite("Server cancel signal")
struct ServerCancelSignalTests {
    @Test func aCancelAfterRegistrationRunsTheActionOnce() {
        let signal = ServerCancelSignal()
        let runs = Atomic(0)
        signal.onFire { runs.add(1, ordering: .relaxed) }
        #expect(runs.load(ordering: .relaxed) == 0)
        signal.fire()
        signal.fire()
        #expect(runs.load(ordering: .relaxed) == 1)
        #expect(signal.isFired)
    }

    @Test func aCancelBeforeRegistrationRunsTheActionWhenRegistered() {
        let signal = ServerCancelSignal()
        signal.fire()
        let runs = Atomic(0)
        signal.onFire { runs.add(1, ordering: .relaxed) }
        #expect(runs.load(ordering: .relaxed) == 1)
    }

    @Test func aClearedActionIsNotRun() {
        let signal = ServerCancelSignal()
        let runs = Atomic(0)
        signal.onFire { runs.add(1, ordering: .relaxed) }
        signal.clear()
        signal.fire()
        #expect(runs.load(ordering: .relaxed) == 0)
        #expect(signal.isFired)
    }
}
