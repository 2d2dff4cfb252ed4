import HopGateDomain
import NIOCore
import Synchronization

/// The response timeout of one exchange, on an event loop: it fires when no response head has
/// gone out for `timeout` since the later of the exchange's start and the last part of the
/// request body the tunnel took. An upload that keeps moving is never cut off, however long it
/// takes (nginx's `proxy_send_timeout`/`proxy_read_timeout` likewise measure silence, not the
/// whole exchange); a service that says nothing for `timeout` after the request is through is.
final class ResponseDeadline: Sendable {
    private let loop: any EventLoop
    private let timeout: TimeAmount
    private let progress: ExchangeProgress
    private let scheduled = Mutex<(task: Scheduled<Void>?, cancelled: Bool)>((nil, false))

    init(timeout: Duration, on loop: any EventLoop, watching progress: ExchangeProgress) {
        self.loop = loop
        self.timeout = .nanoseconds(timeout.nanoseconds)
        self.progress = progress
        schedule(in: self.timeout)
    }

    /// The exchange is over: the deadline no longer matters.
    func cancel() {
        let task = scheduled.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }

    private func schedule(in delay: TimeAmount) {
        let task = loop.scheduleTask(in: delay) { self.check() }
        let cancelled = scheduled.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    private func check() {
        guard !progress.headSent else { return }
        let quiet = NIODeadline.now() - progress.lastRequestProgress
        if quiet < timeout {
            schedule(in: timeout - quiet)
            return
        }
        if progress.fail(ProxyFailure.timeout) { progress.cancelExchange() }
    }
}
