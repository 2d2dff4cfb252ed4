import Synchronization

/// Stops one exchange from outside the task that runs it: its response deadline, or a request
/// body over the limit found by the request's pump. With it the router runs an exchange in the
/// public request's own task — a task of its own, there only to be cancelled, cost two thread
/// wake-ups per request.
///
/// The transport watches it (``onInterrupt(_:)``) while the exchange waits for a stream and
/// while it runs: interrupting fails what the exchange waits for (a free stream, the next
/// response part) with the given error, and the exchange then ends as an abandoned one does
/// (the client is told to stop). Interrupting is final: a later attempt of the same public
/// request fails at once.
public final class ExchangeInterruption: Sendable {
    private struct State {
        var error: (any Error)?
        var handler: (@Sendable (any Error) -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Why the exchange was interrupted, or nil while it was not.
    public var error: (any Error)? { state.withLock { $0.error } }

    /// Stops the exchange with `error`; only the first call counts.
    public func interrupt(with error: any Error) {
        let handler = state.withLock { state -> (@Sendable (any Error) -> Void)? in
            guard state.error == nil else { return nil }
            state.error = error
            defer { state.handler = nil }
            return state.handler
        }
        handler?(error)
    }

    /// Sets what interrupting does from now on, replacing what was set; nil clears it. When the
    /// exchange was interrupted already, `handler` is not kept (nor called) and this returns
    /// the error, so the caller fails at once.
    @discardableResult
    public func onInterrupt(_ handler: (@Sendable (any Error) -> Void)?) -> (any Error)? {
        state.withLock { state in
            if let error = state.error { return error }
            state.handler = handler
            return nil
        }
    }
}
