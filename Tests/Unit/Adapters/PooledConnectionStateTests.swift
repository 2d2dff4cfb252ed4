@testable import HopGateLocalForwarder
import NIOCore
import NIOHTTP1
import Testing

/// The state a pooled connection's handler and its exchange's task share: buffering,
/// back-pressure, the end of a response, stray bytes, and the idle timer.
@Suite("Pooled connection state")
struct PooledConnectionStateTests {
    private let head = HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok))

    private func body(_ count: Int) -> HTTPClientResponsePart {
        .body(ByteBuffer(repeating: 0x61, count: count))
    }

    private func takenCount(_ taken: PooledConnectionState.Taken) -> Int? {
        if case .parts(let parts, _) = taken { parts.count } else { nil }
    }

    @Test func partsWaitUntilTakenThenNothingIsLeft() {
        var state = PooledConnectionState()
        guard case .none = state.deliver([head, body(10)], bytes: 10) else { Issue.record("delivery"); return }
        #expect(takenCount(state.take()) == 2)
        guard case .nothing = state.take() else { Issue.record("parts left"); return }
    }

    @Test func aWaitingTaskGetsTheNextBurstDirectly() async throws {
        let parts = try await withUnsafeThrowingContinuation { continuation in
            var state = PooledConnectionState()
            guard case .nothing = state.take(orWait: continuation) else { Issue.record("parts before any came"); return }
            guard case .resume(let waiter, let parts) = state.deliver([head], bytes: 0) else { Issue.record("not resumed"); return }
            waiter.resume(returning: parts)
        }
        #expect(parts.count == 1)
    }

    @Test func readsPauseAtTheHighWatermarkAndResumeWhenTaken() {
        var state = PooledConnectionState()
        _ = state.deliver([head, body(PooledConnectionState.highWatermark)], bytes: PooledConnectionState.highWatermark)
        let paused = state.withholdsRead()
        #expect(paused)
        guard case .parts(_, let resumeReading) = state.take() else { Issue.record("no parts"); return }
        #expect(resumeReading)
        let stillPaused = state.withholdsRead()
        #expect(!stillPaused)
    }

    @Test func bufferedPartsComeBeforeTheClose() {
        var state = PooledConnectionState()
        _ = state.deliver([head, body(5)], bytes: 5)
        let waiters = state.close(PooledForwardingError(.connectionClosed))
        #expect(waiters.reader == nil && waiters.writer == nil)
        #expect(takenCount(state.take()) == 2)
        guard case .failed(let error) = state.take() else { Issue.record("no failure"); return }
        #expect(error as? PooledForwardingError == PooledForwardingError(.connectionClosed))
        #expect(!state.isOpen)
    }

    @Test func bytesAfterTheResponseEndCloseTheConnection() {
        var sameBurst = PooledConnectionState()
        guard case .close = sameBurst.deliver([head, .end(nil), head], bytes: 0) else { Issue.record("kept"); return }
        #expect(!sameBurst.isOpen)

        var later = PooledConnectionState()
        _ = later.deliver([head, .end(nil)], bytes: 0)
        guard case .close = later.deliver([body(1)], bytes: 1) else { Issue.record("kept"); return }
        let release = later.becomeIdle(at: .uptimeNanoseconds(1))
        #expect(!release.pooled)
    }

    @Test func onlyAWholeResponseMakesTheConnectionIdle() {
        var state = PooledConnectionState()
        _ = state.deliver([head, body(3)], bytes: 3)
        let release = state.becomeIdle(at: .uptimeNanoseconds(1))
        #expect(!release.pooled)
        let reopened = state.beginExchange()
        #expect(!reopened)
    }

    @Test func theIdleTimerClosesOnlyAConnectionUnusedForTheTimeout() {
        let timeout = TimeAmount.seconds(60)
        let start = NIODeadline.uptimeNanoseconds(1_000)
        var state = PooledConnectionState()
        _ = state.deliver([head, .end(nil)], bytes: 0)
        let firstRelease = state.becomeIdle(at: start)
        #expect(firstRelease == (pooled: true, armTimer: true))

        // Used again and back: the armed timer looks again from the new idle time.
        let taken = state.beginExchange()
        #expect(taken)
        _ = state.deliver([head, .end(nil)], bytes: 0)
        let later = start + .seconds(30)
        let secondRelease = state.becomeIdle(at: later)
        #expect(secondRelease == (pooled: true, armTimer: false))
        guard case .rearm(let next) = state.idleTimerFired(at: start + timeout, timeout: timeout) else { Issue.record("not rearmed"); return }
        #expect(next == later + timeout)
        guard case .close = state.idleTimerFired(at: next, timeout: timeout) else { Issue.record("not closed"); return }
        let reopened = state.beginExchange()
        #expect(!reopened)
    }

    @Test func aTimerFiringDuringAnExchangeIsArmedAgainAtTheNextRelease() {
        var state = PooledConnectionState()
        _ = state.deliver([head, .end(nil)], bytes: 0)
        _ = state.becomeIdle(at: .uptimeNanoseconds(1))
        let taken = state.beginExchange()
        #expect(taken)
        guard case .none = state.idleTimerFired(at: .uptimeNanoseconds(2), timeout: .seconds(60)) else { Issue.record("acted"); return }
        _ = state.deliver([head, .end(nil)], bytes: 0)
        let release = state.becomeIdle(at: .uptimeNanoseconds(3))
        #expect(release == (pooled: true, armTimer: true))
    }

    @Test func theWriterWaitsOnlyPastTheWindowAndFailsOnceClosed() {
        var state = PooledConnectionState()
        state.willWrite(PooledConnectionState.writeWindow - 1)
        guard case .room = state.writeRoom() else { Issue.record("waited below the window"); return }
        state.willWrite(1)
        guard case .wait = state.writeRoom() else { Issue.record("no wait past the window"); return }
        #expect(state.didWrite(1) == nil)  // nobody waits
        guard case .room = state.writeRoom() else { Issue.record("no room after the write"); return }
        _ = state.close(PooledForwardingError(.connectionClosed))
        guard case .failed = state.writeRoom() else { Issue.record("room on a closed connection"); return }
    }
}
