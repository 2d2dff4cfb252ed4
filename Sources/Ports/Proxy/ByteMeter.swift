/// Counts one direction's body bytes and hands them to the metrics in batches of at least 1 MiB
/// (and the rest when flushed), so a chunk costs an addition, not a metrics lookup; long streams
/// still show up while they last. Used by one pump task only; a value, so a request's meters cost
/// no allocation.
struct ByteMeter {
    private let direction: String
    private var pending = 0

    init(direction: String) { self.direction = direction }

    mutating func add(_ count: Int) {
        pending += count
        if pending >= 1 << 20 { flush() }
    }

    mutating func flush() {
        guard pending > 0 else { return }
        HopGateMetrics.recordBytes(pending, direction: direction)
        pending = 0
    }
}
