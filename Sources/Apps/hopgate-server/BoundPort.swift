import Synchronization

/// A port known only once a listener has bound (configured as 0 in tests): written by the
/// listener's `onListening`, read by whoever needs to tell clients about it (HTTP → HTTPS
/// redirects) or whether it is up (readiness).
final class BoundPort: Sendable {
    private let port: Atomic<Int>
    private let bound = Atomic<Bool>(false)

    init(configured: Int) { port = Atomic(configured) }

    var value: Int { port.load(ordering: .relaxed) }

    /// Whether the listener has bound (for readiness).
    var isBound: Bool { bound.load(ordering: .relaxed) }

    func bound(_ value: Int) {
        port.store(value, ordering: .relaxed)
        bound.store(true, ordering: .relaxed)
    }
}
