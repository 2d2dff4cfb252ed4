import Synchronization

/// How a client asks to leave: once ``leave()`` is called, the transport tells the server, the
/// server stops giving the tunnel new exchanges and drains it, and the connector's `run` returns
/// `.drained` after the exchanges in flight have finished (graceful shutdown of a client).
public final class TunnelLeaveSignal: Sendable {
    private struct State {
        var requested = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether ``leave()`` was called.
    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Asks to leave; later calls do nothing.
    public func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.requested else { return [] }
            state.requested = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``leave()`` has been called, or when the calling task is cancelled (check
    /// ``isRequested`` to tell which).
    public func requested() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.requested || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    if !state.requested { state.cancelled.insert(id) }
                    return nil
                }
                return waiter
            }
            waiter?.resume()
        }
    }
}
