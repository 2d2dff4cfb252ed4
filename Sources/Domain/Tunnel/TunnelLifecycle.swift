/// The life of one tunnel session, as a state machine without I/O:
/// `handshaking → active → draining → closed`.
///
/// The transport feeds it events (hello accepted, a frame or heartbeat heard, a clock tick,
/// exchanges starting and finishing, a drain request, the transport closing) and carries out
/// the ``Action`` it returns. Time is a generic `InstantProtocol` so tests drive it with a
/// manual clock.
///
/// A drain is over when the exchanges *this side* started have finished: the server counts the
/// public requests it handed to the tunnel, so a drain with nothing in flight closes at once
/// (the peer is still told to drain), and a peer that never finishes an exchange is closed when
/// ``Configuration/drainTimeout`` passes. The peer's own report that it has drained is not
/// waited for. A closed session tells the transport nothing more; the transport keeps the
/// reason (``closeReason``).
public struct TunnelLifecycle<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Deadlines of a session.
    public struct Configuration: Sendable, Hashable {
        /// How long a client has to send its hello. Default 10 s.
        public var handshakeTimeout: Duration
        /// How long the peer may stay silent (no frame, no heartbeat) before the session is
        /// considered dead (``HeartbeatRule``). Default 30 s: three missed heartbeats at the
        /// default 10 s interval.
        public var heartbeatTimeout: Duration
        /// How long a drain waits for in-flight exchanges. Default 30 s.
        public var drainTimeout: Duration

        public init(handshakeTimeout: Duration = .seconds(10), heartbeatTimeout: Duration = HeartbeatRule.timeout(forInterval: .seconds(10)), drainTimeout: Duration = .seconds(30)) {
            self.handshakeTimeout = handshakeTimeout
            self.heartbeatTimeout = heartbeatTimeout
            self.drainTimeout = drainTimeout
        }
    }

    /// Where the session is.
    public enum State: Sendable, Hashable {
        case handshaking(deadline: Instant)
        case active(lastHeard: Instant)
        case draining(lastHeard: Instant, deadline: Instant)
        case closed(TunnelCloseReason)
    }

    /// Something that happened to the session.
    public enum Event: Sendable, Hashable {
        /// The hello was checked and accepted.
        case accepted(at: Instant)
        /// The hello was refused.
        case refused
        /// Any frame or heartbeat arrived from the peer.
        case heard(at: Instant)
        /// Time passed; deadlines are checked.
        case tick(at: Instant)
        /// The session is asked to drain: no new exchanges, in-flight ones may finish.
        case drain(at: Instant)
        /// A proxied exchange is about to start on this session.
        case exchangeStarted
        /// A proxied exchange ended, however it ended.
        case exchangeFinished
        /// A newer session for the same domain replaces this one (it drains).
        case replaced(at: Instant)
        /// The underlying transport closed.
        case transportClosed
    }

    /// What the transport must do.
    public enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Let the exchange start.
        case startExchange
        /// Refuse the exchange: the session does not take new ones (send it elsewhere).
        case refuseExchange
        /// Tell the peer to drain (stop sending new work, finish what is in flight).
        case sendDrain
        /// Tell the peer to drain, then close for the given reason: nothing is in flight, so the
        /// session ends at once, and the peer learns that it was drained (it stops and may
        /// reconnect) rather than cut off.
        case sendDrainAndClose(TunnelCloseReason)
        /// Close the transport for the given reason (after a drain, the peer has been told).
        case close(TunnelCloseReason)
        /// The event is not allowed in the current state; the state is unchanged.
        case invalid
    }

    public private(set) var state: State
    /// Exchanges started and not yet finished.
    public private(set) var inFlight: Int = 0
    public let configuration: Configuration

    /// A session whose handshake started at `now`.
    public init(startedAt now: Instant, configuration: Configuration = .init()) {
        self.configuration = configuration
        self.state = .handshaking(deadline: now.advanced(by: configuration.handshakeTimeout))
    }

    /// Whether new exchanges may be sent over this session.
    public var acceptsExchanges: Bool {
        if case .active = state { return true }
        return false
    }

    /// Whether the session has ended.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Why the session ended, once it has.
    public var closeReason: TunnelCloseReason? {
        if case .closed(let reason) = state { return reason }
        return nil
    }

    /// The next instant at which a ``Event/tick(at:)`` may change the state, if any.
    public var nextDeadline: Instant? {
        switch state {
        case .handshaking(let deadline): return deadline
        case .active(let lastHeard): return lastHeard.advanced(by: configuration.heartbeatTimeout)
        case .draining(let lastHeard, let deadline): return min(deadline, lastHeard.advanced(by: configuration.heartbeatTimeout))
        case .closed: return nil
        }
    }

    /// Applies `event` and returns what the transport must do.
    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (.closed, .exchangeStarted):
            return .refuseExchange
        case (.closed, .exchangeFinished):
            inFlight = max(0, inFlight - 1)
            return .none
        case (.closed, _):
            return .none

        case (_, .transportClosed):
            state = .closed(.transportClosed)
            return .none

        case (.handshaking, .accepted(let now)):
            state = .active(lastHeard: now)
            return .none
        case (.handshaking, .refused):
            return close(.refused)
        case (.handshaking(let deadline), .tick(let now)):
            return now >= deadline ? close(.handshakeTimeout) : .none
        case (.handshaking, .heard):
            return .none
        case (.handshaking, .drain), (.handshaking, .replaced):
            return close(.drained)
        case (.handshaking, .exchangeStarted):
            return .refuseExchange
        case (.handshaking, .exchangeFinished):
            return .invalid

        case (.active, .heard(let now)):
            state = .active(lastHeard: now)
            return .none
        case (.active(let lastHeard), .tick(let now)):
            return isSilentTooLong(since: lastHeard, now: now) ? close(.heartbeatTimeout) : .none
        case (.active(let lastHeard), .drain(let now)):
            return startDraining(lastHeard: lastHeard, now: now, reasonWhenIdle: .drained)
        case (.active(let lastHeard), .replaced(let now)):
            return startDraining(lastHeard: lastHeard, now: now, reasonWhenIdle: .replaced)
        case (.active, .exchangeStarted):
            inFlight += 1
            return .startExchange
        case (.active, .exchangeFinished):
            guard inFlight > 0 else { return .invalid }
            inFlight -= 1
            return .none

        case (.draining(_, let deadline), .heard(let now)):
            state = .draining(lastHeard: now, deadline: deadline)
            return .none
        case (.draining(let lastHeard, let deadline), .tick(let now)):
            if isSilentTooLong(since: lastHeard, now: now) { return close(.heartbeatTimeout) }
            return now >= deadline ? close(.drainTimeout) : .none
        case (.draining, .drain), (.draining, .replaced):
            return .none
        case (.draining, .exchangeStarted):
            return .refuseExchange
        case (.draining, .exchangeFinished):
            guard inFlight > 0 else { return .invalid }
            inFlight -= 1
            return inFlight == 0 ? close(.drained) : .none

        case (.active, .accepted), (.active, .refused), (.draining, .accepted), (.draining, .refused):
            return .invalid
        }
    }

    private mutating func startDraining(lastHeard: Instant, now: Instant, reasonWhenIdle: TunnelCloseReason) -> Action {
        if inFlight == 0 {
            state = .closed(reasonWhenIdle)
            return .sendDrainAndClose(reasonWhenIdle)
        }
        state = .draining(lastHeard: lastHeard, deadline: now.advanced(by: configuration.drainTimeout))
        return .sendDrain
    }

    private func isSilentTooLong(since lastHeard: Instant, now: Instant) -> Bool {
        HeartbeatRule.isDead(silence: lastHeard.duration(to: now), timeout: configuration.heartbeatTimeout)
    }

    private mutating func close(_ reason: TunnelCloseReason) -> Action {
        state = .closed(reason)
        return .close(reason)
    }
}
