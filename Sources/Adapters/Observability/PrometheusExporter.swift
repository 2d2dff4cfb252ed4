public import Metrics
import Prometheus

/// Collects swift-metrics values in a Prometheus registry and renders them in the text
/// exposition format for `/metrics`.
public struct PrometheusExporter: Sendable {
    private let registry: PrometheusCollectorRegistry
    /// The factory to hand to `MetricsSystem.bootstrap` (once per process, in the app).
    public let factory: any MetricsFactory

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.registry = registry
        self.factory = factory
    }

    /// Installs this exporter as the process-wide metrics backend. Call once, from an app.
    public func bootstrap() { MetricsSystem.bootstrap(factory) }

    /// The current values in Prometheus text format.
    public func render() -> String { registry.emitToString() }
}
