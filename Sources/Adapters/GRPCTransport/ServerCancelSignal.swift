import Synchronization

/// The server's Cancel of one exchange on the client: the stream's reader fires it, and it
/// cancels the task running the exchange's handler — at once if that task is registered, or as
/// soon as it is.
///
/// A callback instead of a stream that a watcher task waits on: a watcher would be one more task
/// and one more suspension for every exchange, and almost no exchange is ever cancelled.
final class ServerCancelSignal: Sendable {
    private enum State {
        case waiting((@Sendable () -> Void)?)
        case fired
    }
    private let state = Mutex(State.waiting(nil))

    /// The server sent Cancel: runs the registered action (once).
    func fire() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            guard case .waiting(let action) = state else { return nil }
            state = .fired
            return action
        }
        action?()
    }

    /// Whether the server sent Cancel.
    var isFired: Bool {
        state.withLock { if case .fired = $0 { true } else { false } }
    }

    /// Runs `action` when the server sends Cancel, or now if it already has. Replaces any
    /// earlier action; ``clear()`` removes it.
    func onFire(_ action: @escaping @Sendable () -> Void) {
        let firedAlready = state.withLock { state -> Bool in
            guard case .waiting = state else { return true }
            state = .waiting(action)
            return false
        }
        if firedAlready { action() }
    }

    /// Forgets the registered action (the task it would cancel is over).
    func clear() {
        state.withLock { state in
            if case .waiting = state { state = .waiting(nil) }
        }
    }
}
