import HopGateDomain
import NIOCore
import Synchronization

/// The response timeouts of a router's exchanges: an exchange times out when no response head
/// has gone out for `timeout` since the later of its start and the last part of the request
/// body the tunnel took. An upload that keeps moving is never cut off, however long it takes
/// (nginx's `proxy_send_timeout`/`proxy_read_timeout` likewise measure silence, not the whole
/// exchange); a service that says nothing for `timeout` after the request is through is.
///
/// Surprising but deliberate: there is no timer per exchange. One sweep on an event loop checks
/// every watched exchange each ``tick`` (a twentieth of the timeout, between 5 ms and 500 ms),
/// so a deadline fires at most one tick late. A timer per exchange, scheduled and cancelled
/// from the exchange's task, woke the event loop twice for every request; watching and
/// forgetting an exchange here take a lock and touch no event loop. The sweep runs only while
/// something is watched: the first exchange after a quiet sweep schedules it again.
final class ResponseDeadlines: Sendable {
    /// An exchange being watched; hand it back to ``forget(_:)``.
    struct Watch: Sendable {
        fileprivate let id: UInt64
    }

    private struct State {
        var watched: [UInt64: ExchangeProgress] = [:]
        var lastID: UInt64 = 0
        /// A sweep is scheduled.
        var sweeping = false
    }

    private let loop: any EventLoop
    private let timeout: TimeAmount
    /// How often the sweep runs while exchanges are watched.
    let tick: TimeAmount
    private let state = Mutex(State())

    init(timeout: Duration, on loop: any EventLoop) {
        self.loop = loop
        self.timeout = .nanoseconds(timeout.nanoseconds)
        self.tick = .nanoseconds(min(max(timeout.nanoseconds / 20, 5_000_000), 500_000_000))
    }

    /// Starts watching an exchange (its deadline counts from its progress's start).
    func watch(_ progress: ExchangeProgress) -> Watch {
        let (id, startSweeping) = state.withLock { state in
            state.lastID += 1
            state.watched[state.lastID] = progress
            defer { state.sweeping = true }
            return (state.lastID, !state.sweeping)
        }
        if startSweeping { scheduleSweep() }
        return Watch(id: id)
    }

    /// The exchange is over: its deadline no longer matters.
    func forget(_ watch: Watch) {
        _ = state.withLock { $0.watched.removeValue(forKey: watch.id) }
    }

    private func scheduleSweep() {
        loop.scheduleTask(in: tick) { self.sweep() }
    }

    private func sweep() {
        let watched = state.withLock { state -> [ExchangeProgress]? in
            guard !state.watched.isEmpty else {
                state.sweeping = false
                return nil
            }
            return Array(state.watched.values)
        }
        guard let watched else { return }
        let now = NIODeadline.now()
        for progress in watched where !progress.headSent && now - progress.lastRequestProgress >= timeout {
            if progress.fail(ProxyFailure.timeout) { progress.stopExchange() }
        }
        scheduleSweep()
    }
}
