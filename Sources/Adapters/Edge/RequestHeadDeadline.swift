import NIOCore

/// Closes an HTTP/1.1 connection whose next request head has not fully arrived within `timeout`
/// of the connection opening or of the previous response ending. One rule covers an idle
/// keep-alive connection and a client trickling a head byte by byte (slowloris); neither may hold
/// a socket for longer. ``PublicHTTP1Handler`` tells it when heads arrive and responses end.
///
/// Surprising: no timer per request. A keep-alive connection's deadline moves with every
/// response, and scheduling and cancelling a task each time cost every request an allocation
/// and a search of the loop's timer queue. The deadline is a value; one scheduled check per
/// connection looks at it when it comes due, closes the connection if the deadline has passed,
/// and otherwise checks again at the deadline it finds.
///
/// A class, not a value: the scheduled check calls back into it. Used on the channel's loop only.
final class RequestHeadDeadline {
    private let timeout: TimeAmount
    /// When the connection closes unless a request head has come by then; nil while a request
    /// is open.
    private var deadline: NIODeadline?
    /// The scheduled check, if one is pending (at or before `deadline`).
    private var check: Scheduled<Void>?
    /// Requests whose head arrived and whose response has not ended (pipelining may stack them).
    private var open = 0

    init(timeout: TimeAmount) { self.timeout = timeout }

    /// The wait for a head starts (the connection is open).
    func start(on channel: any Channel) {
        let due = channel.eventLoop.now + timeout
        deadline = due
        if check == nil { scheduleCheck(on: channel, at: due) }
    }

    /// A request head arrived: the deadline is off while its request is open.
    func requestArrived() {
        open += 1
        deadline = nil
    }

    /// A response ended: when no other request is open, the wait for the next head starts.
    func responseEnded(on channel: any Channel) {
        open = max(0, open - 1)
        if open == 0 { start(on: channel) }
    }

    /// The connection closed or the handler left: no more checks.
    func stop() {
        check?.cancel()
        check = nil
        deadline = nil
    }

    private func scheduleCheck(on channel: any Channel, at time: NIODeadline) {
        let deadline = NIOLoopBound(self, eventLoop: channel.eventLoop)
        check = channel.eventLoop.scheduleTask(deadline: time) { deadline.value.checkDue(channel) }
    }

    private func checkDue(_ channel: any Channel) {
        check = nil
        guard let deadline else { return }  // a request is open; its response's end re-arms
        if deadline <= channel.eventLoop.now {
            channel.close(promise: nil)
        } else {
            scheduleCheck(on: channel, at: deadline)
        }
    }
}
