import HopGateObservability
import HopGatePorts
import Metrics
import Testing

@Suite("Prometheus exporter")
struct PrometheusExporterTests {
    @Test func rendersCountersGaugesAndHistogramsInTextFormat() {
        let exporter = PrometheusExporter()
        Counter(label: HopGateMetrics.requests, dimensions: [("method", "GET"), ("status_class", "2xx")], factory: exporter.factory).increment(by: 3)
        Gauge(label: HopGateMetrics.activeTunnels, factory: exporter.factory).record(2)
        Metrics.Timer(label: HopGateMetrics.requestDuration, factory: exporter.factory).record(duration: .milliseconds(7))
        let text = exporter.render()
        #expect(text.contains(#"hopgate_http_requests_total{method="GET",status_class="2xx"} 3"#))
        #expect(text.contains("hopgate_tunnels_active 2"))
        #expect(text.contains(#"hopgate_http_request_duration_seconds_bucket{le="0.01"} 1"#))
        #expect(text.contains("# TYPE hopgate_http_requests_total counter"))
    }
}
