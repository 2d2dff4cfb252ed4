import HopGateDomain
import HopGatePorts
import HTTPTypes
import HopGateTestSupport
import NIOCore
import Synchronization
import Testing

/// Collects the parts a handler writes.
final class ResponseRecorder: Sendable {
    private let parts = Mutex<[ExchangeResponsePart]>([])
    var writer: PartWriter<ExchangeResponsePart> { PartWriter { [self] part in self.parts.withLock { $0.append(part) } } }
    var recorded: [ExchangeResponsePart] { parts.withLock { $0 } }
    var status: Int? {
        for case .head(let head) in recorded { return head.status.code }
        return nil
    }
}

/// A forwarder that records where requests went and answers or fails as told.
final class FakeForwarder: LocalForwarder {
    let calls = Mutex<[(LocalTarget, String)]>([])
    /// Each request's `X-Forwarded-Prefix`.
    let forwardedPrefixes = Mutex<[String?]>([])
    let fail: Bool
    init(fail: Bool = false) { self.fail = fail }

    func forward(_ head: ExchangeRequestHead, to target: LocalTarget, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        calls.withLock { $0.append((target, head.request.path ?? "")) }
        forwardedPrefixes.withLock { $0.append(head.request.headerFields[HTTPField.Name("X-Forwarded-Prefix")!]) }
        if fail { throw TunnelExchangeError(.upstreamFailed, "connection refused") }
        try await response.write(.head(HTTPResponse(status: .ok)))
        try await response.write(.end(nil))
    }
}

@Suite("Local services and the client's router")
struct LocalServiceTests {
    @Test func parsesServiceSpecs() throws {
        let api = try LocalService(parsing: "api=/api=127.0.0.1:9000")
        #expect(api.name == "api" && api.prefix.value == "/api" && api.target == LocalTarget(host: "127.0.0.1", port: 9000) && !api.stripPrefix)
        let stripped = try LocalService(parsing: "web=/web/=https://[::1]:8443=strip")
        #expect(stripped.target == LocalTarget(host: "::1", port: 8443, scheme: "https") && stripped.stripPrefix)
    }

    @Test(arguments: ["api", "api=/api", "=/api=127.0.0.1:1", "a b=/x=127.0.0.1:1", "api=api=127.0.0.1:1", "api=/api=127.0.0.1", "api=/api=127.0.0.1:0", "api=/api=:80", "api=/api=h:1=nostrip"])
    func refusesMalformedSpecs(_ spec: String) {
        #expect(throws: LocalServiceError.self) { try LocalService(parsing: spec) }
    }

    func request(_ path: String) -> ExchangeRequestHead {
        ExchangeRequestHead(request: HTTPRequest(method: .get, scheme: "https", authority: "app.example.com", path: path), requestID: "r1")
    }

    func emptyBody() -> PartStream<ExchangeRequestPart> {
        var sent = false
        return PartStream { defer { sent = true }; return sent ? nil : .end(nil) }
    }

    @Test func routesByLongestPrefixAndStrips() async throws {
        let forwarder = FakeForwarder()
        let logs = CapturedLogs()
        let router = try LocalServiceRouter(
            domain: try DomainName(parsing: "app.example.com"),
            services: [
                LocalService(name: "default", prefix: .root, target: LocalTarget(host: "127.0.0.1", port: 8080)),
                try LocalService(parsing: "api=/api=127.0.0.1:9000=strip"),
            ],
            forwarder: forwarder, logger: logs.logger()
        )
        for path in ["/api/users?x=1", "/apix", "/"] {
            let recorder = ResponseRecorder()
            try await router.handle(request(path), requestBody: emptyBody(), response: recorder.writer)
            #expect(recorder.status == 200)
        }
        let calls = forwarder.calls.withLock { $0 }
        #expect(calls.map(\.0.port) == [9000, 8080, 8080])
        #expect(calls.map(\.1) == ["/users?x=1", "/apix", "/"])
        #expect(forwarder.forwardedPrefixes.withLock { $0 } == ["/api", nil, nil])
        let lines = logs.lines.filter { $0.message == "request" }
        #expect(lines.count == 3)
        #expect(lines[0].metadata["status"] == "200" && lines[0].metadata["request_id"] == "r1" && lines[0].metadata["service"] == "api")
        #expect(lines[0].metadata["duration_ms"] != nil && lines[0].metadata["method"] == "GET")
    }

    @Test func unreachableServiceIs502AndUnroutedPathIs404() async throws {
        let router = try LocalServiceRouter(
            domain: try DomainName(parsing: "app.example.com"),
            services: [try LocalService(parsing: "api=/api=127.0.0.1:9")],
            forwarder: FakeForwarder(fail: true), logger: CapturedLogs().logger()
        )
        let failed = ResponseRecorder()
        try await router.handle(request("/api"), requestBody: emptyBody(), response: failed.writer)
        #expect(failed.status == 502)
        let unrouted = ResponseRecorder()
        try await router.handle(request("/other"), requestBody: emptyBody(), response: unrouted.writer)
        #expect(unrouted.status == 404)
        if case .end = unrouted.recorded.last {} else { Issue.record("response not ended") }
    }
}
