import NIOCore
import NIOHTTP1

/// The state a pooled connection's channel handler (on the event loop) and the task running its
/// exchange share, as a state machine without I/O: each event returns what the caller must do.
///
/// Response parts gather here until the exchange's task takes them; past
/// ``highWatermark`` buffered body bytes the handler stops reading from the socket, and taking
/// the parts asks it to read again — back-pressure from the tunnel to the local service. The
/// other way, request body bytes handed to the channel but not yet taken by the socket are
/// counted, and the task waits only past ``writeWindow`` of them.
struct PooledConnectionState {
    /// Buffered body bytes past which the connection stops reading.
    static let highWatermark = 256 * 1024
    /// Unwritten request body bytes past which the exchange's task waits for the socket.
    static let writeWindow = 256 * 1024

    /// Where the connection is in its life.
    enum Phase {
        /// Carrying an exchange whose response has not ended.
        case exchanging
        /// The response ended; the exchange's task decides whether the connection goes back to the pool.
        case responded
        /// In the pool since the deadline.
        case idle(since: NIODeadline)
        /// Closed or closing: never used again.
        case closed
    }

    private(set) var phase = Phase.exchanging
    private var parts: [HTTPClientResponsePart] = []
    private var bufferedBytes = 0
    private var waiter: UnsafeContinuation<[HTTPClientResponsePart], any Error>?
    private var readWithheld = false
    private var closure: (any Error)?
    private var idleTimerArmed = false
    private var unwrittenBytes = 0
    private var writeWaiter: UnsafeContinuation<Void, any Error>?

    // MARK: Events from the channel handler

    /// What the handler does after handing over a burst of response parts.
    enum DeliveryAction {
        case none
        /// Resume the waiting task with these parts.
        case resume(UnsafeContinuation<[HTTPClientResponsePart], any Error>, [HTTPClientResponsePart])
        /// The service sent bytes no exchange asked for: close the connection.
        case close
    }

    /// The handler read `burst` (`bytes` of it body bytes).
    mutating func deliver(_ burst: [HTTPClientResponsePart], bytes: Int) -> DeliveryAction {
        guard case .exchanging = phase else {
            if case .closed = phase { return .none }
            phase = .closed
            return .close
        }
        if let end = burst.firstIndex(where: { if case .end = $0 { true } else { false } }) {
            guard end == burst.index(before: burst.endIndex) else {
                phase = .closed  // bytes after the response's end: nothing may reuse this connection
                return .close
            }
            phase = .responded
        }
        if let waiter {
            self.waiter = nil
            return .resume(waiter, burst)
        }
        parts.append(contentsOf: burst)
        bufferedBytes += bytes
        return .none
    }

    /// Whether the handler should hold back its next socket read (too much is buffered).
    mutating func withholdsRead() -> Bool {
        guard bufferedBytes >= Self.highWatermark else { return false }
        readWithheld = true
        return true
    }

    /// The channel closed or failed; returns the waiting reader and writer to fail, if any.
    mutating func close(_ error: any Error) -> (
        reader: UnsafeContinuation<[HTTPClientResponsePart], any Error>?, writer: UnsafeContinuation<Void, any Error>?
    ) {
        phase = .closed
        if closure == nil { closure = error }
        defer { waiter = nil; writeWaiter = nil }
        return (waiter, writeWaiter)
    }

    /// The socket took (or failed to take) `bytes` of request body; returns the writer to resume
    /// when that made room.
    mutating func didWrite(_ bytes: Int) -> UnsafeContinuation<Void, any Error>? {
        unwrittenBytes -= bytes
        guard unwrittenBytes < Self.writeWindow, let writeWaiter else { return nil }
        self.writeWaiter = nil
        return writeWaiter
    }

    // MARK: Calls from the exchange's task

    /// What taking the buffered parts gave.
    enum Taken {
        /// Parts to relay; `resumeReading` when the handler held back a read that it may now do.
        case parts([HTTPClientResponsePart], resumeReading: Bool)
        case failed(any Error)
        /// Nothing yet: wait.
        case nothing
    }

    /// Takes every buffered part, or the reason none will come.
    mutating func take() -> Taken {
        if !parts.isEmpty {
            let taken = parts
            parts.removeAll(keepingCapacity: false)
            bufferedBytes = 0
            defer { readWithheld = false }
            return .parts(taken, resumeReading: readWithheld)
        }
        if let closure { return .failed(closure) }
        return .nothing
    }

    /// Takes the buffered parts, or keeps `continuation` to resume when some come.
    mutating func take(orWait continuation: UnsafeContinuation<[HTTPClientResponsePart], any Error>) -> Taken {
        let taken = take()
        if case .nothing = taken { waiter = continuation }
        return taken
    }

    /// Whether the exchange's task may write on without waiting.
    enum WriteRoom {
        case room
        case failed(any Error)
        case wait
    }

    /// Counts `bytes` handed to the channel.
    mutating func willWrite(_ bytes: Int) { unwrittenBytes += bytes }

    /// Whether the writer may go on; with a continuation, keeps it to resume when it may.
    mutating func writeRoom(orWait continuation: UnsafeContinuation<Void, any Error>? = nil) -> WriteRoom {
        if let closure { return .failed(closure) }
        if unwrittenBytes < Self.writeWindow { return .room }
        if let continuation { writeWaiter = continuation }
        return .wait
    }

    /// The pool hands the connection to a new exchange; false when it closed meanwhile.
    mutating func beginExchange() -> Bool {
        guard case .idle = phase else { return false }
        phase = .exchanging
        return true
    }

    /// The exchange's response ended and the connection goes back to the pool. Returns false when
    /// it cannot (closed meanwhile), and whether an idle timer must be scheduled.
    mutating func becomeIdle(at now: NIODeadline) -> (pooled: Bool, armTimer: Bool) {
        guard case .responded = phase, closure == nil else {
            phase = .closed
            return (false, false)
        }
        phase = .idle(since: now)
        defer { idleTimerArmed = true }
        return (true, !idleTimerArmed)
    }

    /// What the idle timer does when it fires.
    enum IdleTimerAction {
        case none
        case close
        case rearm(NIODeadline)
    }

    /// The idle timer fired at `now`: close a connection idle for `timeout`, look again later at
    /// one that was used meanwhile.
    mutating func idleTimerFired(at now: NIODeadline, timeout: TimeAmount) -> IdleTimerAction {
        idleTimerArmed = false
        guard case .idle(let since) = phase else { return .none }  // busy: the next release arms it again
        if since + timeout <= now {
            phase = .closed
            return .close
        }
        idleTimerArmed = true
        return .rearm(since + timeout)
    }

    /// Marks the connection as never to be reused (the exchange was abandoned).
    mutating func discard() { phase = .closed }

    /// Whether the connection may still carry exchanges.
    var isOpen: Bool {
        if case .closed = phase { false } else { closure == nil }
    }
}
