import Foundation
import HopGatePorts
import Testing

/// The Grafana dashboard and the observability page name only metrics the server exports, and
/// the dashboard shows every one of them.
@Suite("Dashboard and PromQL examples")
struct DashboardMetricsTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `hopgate_…` names in `text`, with histogram series suffixes folded onto their metric.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: /hopgate_[a-z0-9_]+/).map { match in
            var name = String(match.output)
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && !HopGateMetrics.all.contains(name) {
                name.removeLast(suffix.count)
            }
            return name
        })
    }

    @Test("every PromQL expression in the dashboard uses exported metrics, and every metric has a panel")
    func dashboard() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("deploy/grafana/hopgate-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 10)
        let used = Self.metricNames(in: expressions.joined(separator: "\n"))
        #expect(used.subtracting(HopGateMetrics.all).isEmpty, "unknown metrics: \(used.subtracting(HopGateMetrics.all))")
        #expect(Set(HopGateMetrics.all).subtracting(used).isEmpty, "metrics without a panel: \(Set(HopGateMetrics.all).subtracting(used))")
    }

    @Test("the PromQL examples in docs/observability.md use exported metrics")
    func examples() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/observability.md"), encoding: .utf8)
        let used = Self.metricNames(in: page)
        #expect(!used.isEmpty)
        #expect(used.subtracting(HopGateMetrics.all).isEmpty, "unknown metrics: \(used.subtracting(HopGateMetrics.all))")
    }
}
