import Metrics
import Synchronization

/// The per-request metric handles, each made once: `Counter(label:dimensions:)` per request
/// asked the metrics factory every time (its lock, a key built from label and dimensions).
///
/// A counter is made when its method and status class first occur, so `/metrics` shows only
/// series that happened. Made after the app bootstrapped its metrics system (the first request
/// comes after start-up); a process that never bootstraps gets no-op handles.
final class RequestMetricHandles: Sendable {
    static let shared = RequestMetricHandles()

    private struct Key: Hashable {
        var method: String
        var statusClass: Int
    }

    private let counters = Mutex<[Key: Counter]>([:])
    let duration = Metrics.Timer(label: HopGateMetrics.requestDuration)
    let bytesIn = Counter(label: HopGateMetrics.bytes, dimensions: [("direction", "in")])
    let bytesOut = Counter(label: HopGateMetrics.bytes, dimensions: [("direction", "out")])

    /// The counter for a request of `method` answered with `status`.
    func counter(method: String, status: Int) -> Counter {
        let key = Key(method: HopGateMetrics.normalisedMethod(method), statusClass: status / 100)
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: HopGateMetrics.requests, dimensions: [("method", key.method), ("status_class", "\(key.statusClass)xx")])
            counters[key] = counter
            return counter
        }
    }
}
