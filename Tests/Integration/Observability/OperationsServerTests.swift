import HopGateObservability
import HopGateTestSupport
import Logging
import Synchronization
import Testing

/// The operations listener on a real socket, driven by curl.
@Suite("Operations server")
struct OperationsServerTests {
    @Test("/readyz names the failing checks with 503 and turns 200 when they pass; /healthz stays 200")
    func readiness() async throws {
        let storeUp = Atomic<Bool>(false)
        let port = Mutex<Int?>(nil)
        let server = OperationsServer(
            host: "127.0.0.1", port: 0, exporter: PrometheusExporter(),
            checks: [
                .init(name: "listeners") { true },
                .init(name: "domain store") { storeUp.load(ordering: .relaxed) },
            ],
            logger: Logger(label: "test"), onListening: { bound in port.withLock { $0 = bound } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
            let base = "http://127.0.0.1:\(port.withLock { $0 }!)"
            let notReady = try await runCommand(["curl", "-sS", "-w", "[%{http_code}]", base + "/readyz"])
            #expect(notReady == "not ready: domain store\n[503]")
            #expect(try await runCommand(["curl", "-sS", "-w", "[%{http_code}]", base + "/healthz"]) == "ok\n[200]")
            storeUp.store(true, ordering: .relaxed)
            #expect(try await runCommand(["curl", "-sS", "-w", "[%{http_code}]", base + "/readyz"]) == "ready\n[200]")
            #expect(try await runCommand(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", base + "/metrics"]) == "405")
            group.cancelAll()
        }
    }
}
