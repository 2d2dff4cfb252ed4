import Synchronization

/// Resumes a waiting caller with whichever comes first: an operation's outcome, its deadline, or
/// the caller's cancellation. The others are cancelled (an operation that ignores cancellation
/// finishes on its own later and its outcome is dropped).
final class FirstOutcome<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var tasks: [Task<Void, Never>] = []
        /// Set by the first outcome; an outcome that comes before the continuation waits here.
        var outcome: Swift.Result<Result, any Error>?
    }

    private let state = Mutex(State())

    private init() {}

    static func race(
        body: @escaping @Sendable () async throws -> Result, deadline: Duration, timeoutError: any Error
    ) async throws -> Result {
        let race = FirstOutcome()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let work = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try? await Task.sleep(for: deadline)
                    race.finish(.failure(timeoutError))
                }
                race.start(continuation, tasks: [work, timer])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    private func start(_ continuation: CheckedContinuation<Result, any Error>, tasks: [Task<Void, Never>]) {
        let early = state.withLock { state -> Swift.Result<Result, any Error>? in
            state.tasks = tasks
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        if let early {
            continuation.resume(with: early)
            for task in tasks { task.cancel() }
        }
    }

    /// The first call decides; later calls do nothing.
    private func finish(_ outcome: Swift.Result<Result, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, [Task<Void, Never>]) in
            guard state.outcome == nil else { return (nil, []) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        continuation?.resume(with: outcome)
        for task in tasks { task.cancel() }
    }
}
