public import Foundation
public import Metrics

/// Every metric HopGate exports, named in one place (the Grafana dashboard and its test use
/// these names). Labels never carry a request id, and a domain only on the per-certificate
/// expiry gauge, whose names are the registered domains (an admin's list, not the public's).
public enum HopGateMetrics {
    /// Counter: proxied requests, labels `method`, `status_class` (`2xx` … `5xx`).
    public static let requests = "hopgate_http_requests_total"
    /// Timer (histogram, seconds): time from request head to response end.
    public static let requestDuration = "hopgate_http_request_duration_seconds"
    /// Gauge: open tunnels.
    public static let activeTunnels = "hopgate_tunnels_active"
    /// Gauge: routes served (a domain and path prefix with at least one tunnel taking requests).
    public static let routes = "hopgate_tunnel_routes"
    /// Counter: requests sent again to another tunnel of their route because theirs left or
    /// broke before they started (see the router's retry rule).
    public static let retries = "hopgate_proxy_retries_total"
    /// Counter: tunnel handshakes, label `outcome` (`admitted` or a refusal code).
    public static let handshakes = "hopgate_tunnel_handshakes_total"
    /// Counter: body bytes through the proxy, label `direction` (`in` = from the public side, `out` = to it).
    public static let bytes = "hopgate_proxy_bytes_total"
    /// Counter: proxy failures, label `kind` (`no_tunnel`, `timeout`, `upstream`, `unknown_host`, `too_large`, …).
    public static let proxyErrors = "hopgate_proxy_errors_total"
    /// Gauge: when the soonest-expiring certificate in use expires (Unix time, seconds); alert on
    /// `hopgate_certificate_expiry_timestamp_seconds - time() < 14 * 86400`.
    public static let certificateExpiry = "hopgate_certificate_expiry_timestamp_seconds"
    /// Counter: certificate orders, label `outcome` (`issued`, `renewed`, `failed`).
    public static let certificateOrders = "hopgate_certificate_orders_total"
    /// Gauge: when the certificate for one name expires (Unix time, seconds), label `domain`;
    /// removed from use when the domain is unregistered.
    public static let certificateNameExpiry = "hopgate_certificate_name_expiry_timestamp_seconds"

    /// All names, for the dashboard check.
    public static let all = [requests, requestDuration, activeTunnels, routes, retries, handshakes, bytes, proxyErrors, certificateExpiry, certificateOrders, certificateNameExpiry]

    /// Counts a finished proxied request and its duration. The handles are looked up once
    /// (see ``RequestMetricHandles``), not per request.
    public static func recordRequest(method: String, status: Int, duration: Duration) {
        let handles = RequestMetricHandles.shared
        handles.counter(method: method, status: status).increment()
        handles.duration.record(duration: duration)
    }

    /// Counts a handshake outcome.
    public static func recordHandshake(outcome: String) {
        Counter(label: handshakes, dimensions: [("outcome", outcome)]).increment()
    }

    /// Sets the number of open tunnels (in `factory`, or the process's metrics system when nil).
    public static func setActiveTunnels(_ count: Int, factory: (any MetricsFactory)? = nil) {
        Gauge(label: activeTunnels, factory: factory ?? MetricsSystem.factory).record(count)
    }

    /// Sets the number of routes served (in `factory`, or the process's metrics system when nil).
    public static func setRoutes(_ count: Int, factory: (any MetricsFactory)? = nil) {
        Gauge(label: routes, factory: factory ?? MetricsSystem.factory).record(count)
    }

    /// Counts a request retried on another tunnel.
    public static func recordRetry() {
        Counter(label: retries).increment()
    }

    /// Counts proxied body bytes.
    public static func recordBytes(_ count: Int, direction: String) {
        switch direction {
        case "in": RequestMetricHandles.shared.bytesIn.increment(by: count)
        case "out": RequestMetricHandles.shared.bytesOut.increment(by: count)
        default: Counter(label: bytes, dimensions: [("direction", direction)]).increment(by: count)
        }
    }

    /// Sets the expiry of the soonest-expiring certificate in use.
    public static func setEarliestCertificateExpiry(_ date: Date) {
        Gauge(label: certificateExpiry).record(date.timeIntervalSince1970)
    }

    /// Counts a certificate order by its outcome (`issued`, `renewed`, `failed`).
    public static func recordCertificateOrder(outcome: String) {
        Counter(label: certificateOrders, dimensions: [("outcome", outcome)]).increment()
    }

    /// Sets (or, with nil, clears to 0) the expiry of the certificate for one registered domain.
    public static func setCertificateExpiry(domain: String, _ date: Date?) {
        Gauge(label: certificateNameExpiry, dimensions: [("domain", domain)]).record(date?.timeIntervalSince1970 ?? 0)
    }

    /// Counts a proxy failure.
    public static func recordProxyError(kind: String) {
        Counter(label: proxyErrors, dimensions: [("kind", kind)]).increment()
    }

    /// The methods with a label of their own; others collapse to `OTHER`, so a scanner cannot
    /// grow the label set.
    static let labelledMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]

    static func normalisedMethod(_ method: String) -> String {
        labelledMethods.contains(method) ? method : "OTHER"
    }
}
