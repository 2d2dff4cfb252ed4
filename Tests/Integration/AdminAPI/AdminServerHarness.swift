import AsyncHTTPClient
import Foundation
import HopGateAdminAPI
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// An admin API server on a free loopback port, backed by a fresh store of one kind.
struct AdminServerHarness: Sendable {
    static let adminKey = "integration-admin-key-0123456789abcdef"
    let baseURL: String
    let logs: CapturedLogs

    /// A response: status and parsed JSON body.
    struct Reply: Sendable {
        let status: Int
        let text: String
        var headers: HTTPHeaders = [:]
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var error: String? { object["error"] as? String }
    }

    /// Sends a request to `path` (below `/api/v1/admin`) with the admin key unless told otherwise.
    func send(
        _ method: HTTPMethod, _ path: String, json body: String? = nil,
        authorization: String? = "Bearer \(adminKey)", contentType: String? = "application/json"
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: body))
        }
        // A generous deadline: the full suite runs in parallel on two cores, and once (a 12-06 CI
        // run, while the PostgreSQL and disk-fault suites ran beside it) a request over
        // PostgreSQL took more than 10 s. How fast the admin API is, is the benchmarks' business.
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), text: String(buffer: bytes), headers: response.headers)
    }
}

/// Runs the admin API over a fresh store of `kind`, hands `body` a harness, then shuts down.
func withAdminServer<Result: Sendable>(
    _ kind: StoreKind, _ body: @Sendable (AdminServerHarness) async throws -> Result
) async throws -> Result {
    try await withStore(kind) { store in
        let logs = CapturedLogs()
        let administration = DomainAdministration(store: store, logger: logs.logger(label: "admin"))
        let credential = try AdminCredential(configuredKey: AdminServerHarness.adminKey, mode: .production)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let service = try AdminAPIServer.service(
            administration: administration, credential: credential, host: "127.0.0.1", port: 0,
            logger: logs.logger(label: "admin"), onListening: { port in portSink.yield(port) })
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
        return try await withThrowingTaskGroup(of: Result?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestEnvironmentError("the admin server did not start") }
            let harness = AdminServerHarness(baseURL: "http://127.0.0.1:\(port)\(AdminAPIServer.basePath)", logs: logs)
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }
}
