/// The tasks waiting for a channel served by a channel handler to become writable again (an
/// Exchange stream's writer, a public connection's response writer), kept on the channel's
/// event loop by its handler.
///
/// A wait and its cancellation both reach the loop through `execute`, in either order, so a
/// cancellation that comes first is remembered and refuses its wait when that arrives.
public struct WritabilityWaiters {
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var cancelledFirst: Set<UInt64> = []

    public init() {}

    /// Registers the wait `id`, or resumes it at once: with `failure` (the stream has ended),
    /// when it was cancelled first, or when `isWritable`.
    public mutating func add(_ continuation: CheckedContinuation<Void, any Error>, id: UInt64, isWritable: Bool, failure: (any Error)?) {
        if cancelledFirst.remove(id) != nil {
            continuation.resume(throwing: CancellationError())
        } else if let failure {
            continuation.resume(throwing: failure)
        } else if isWritable {
            continuation.resume()
        } else {
            waiting.append((id, continuation))
        }
    }

    /// The task waiting (`id`) was cancelled.
    public mutating func cancel(id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else {
            cancelledFirst.insert(id)
            return
        }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    /// Resumes every wait: normally (the stream is writable again), or with `failure`.
    public mutating func releaseAll(_ failure: (any Error)?) {
        let released = waiting
        waiting = []
        for waiter in released {
            if let failure { waiter.continuation.resume(throwing: failure) } else { waiter.continuation.resume() }
        }
    }
}
