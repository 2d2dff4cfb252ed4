import Synchronization

/// A port known only once a listener has bound (configured as 0 in tests): written by the
/// listener's `onListening`, read by whoever needs to tell clients about it (HTTP → HTTPS redirects).
final class BoundPort: Sendable {
    private let port: Atomic<Int>

    init(configured: Int) { port = Atomic(configured) }

    var value: Int { port.load(ordering: .relaxed) }

    func bound(_ value: Int) { port.store(value, ordering: .relaxed) }
}
