import HTTPTypes
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Synchronization
import Testing
import NIOPosix

@Suite("Public request router: Strict-Transport-Security")
struct StrictTransportSecurityTests {
    static let field = HTTPField.Name("Strict-Transport-Security")!

    /// The response head for `host` (registered: `app.example.com`, without a tunnel) over `scheme`.
    func head(host: String, scheme: String, hsts: String?) async throws -> HTTPResponse {
        let logs = CapturedLogs()
        let administration = DomainAdministration(store: InMemoryDomainStore(), logger: logs.logger())
        _ = try await administration.register(domain: "app.example.com", memo: nil)
        let hub = TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: logs.logger())
        let router = PublicRequestRouter(
            hub: hub, administration: administration, configuration: .init(strictTransportSecurity: hsts),
            timers: MultiThreadedEventLoopGroup.singleton, logger: logs.logger())
        let head = Mutex<HTTPResponse?>(nil)
        try await router.handle(
            HTTPRequest(method: .get, scheme: scheme, authority: host, path: "/"), peer: PeerAddress(address: "192.0.2.7", port: 1),
            scheme: scheme, requestBody: PartStream { nil },
            response: PartWriter { part in if case .head(let response) = part { head.withLock { $0 = response } } })
        return try #require(head.withLock { $0 })
    }

    @Test func aRegisteredDomainsPageOverHTTPSCarriesIt() async throws {
        let response = try await head(host: "app.example.com", scheme: "https", hsts: "max-age=60")
        #expect(response.status == .badGateway)
        #expect(response.headerFields[Self.field] == "max-age=60")
    }

    @Test func notOverHTTPNorForUnknownHostsNorWhenOff() async throws {
        #expect(try await head(host: "app.example.com", scheme: "http", hsts: "max-age=60").headerFields[Self.field] == nil)
        #expect(try await head(host: "nobody.example.com", scheme: "https", hsts: "max-age=60").headerFields[Self.field] == nil)
        #expect(try await head(host: "app.example.com", scheme: "https", hsts: nil).headerFields[Self.field] == nil)
    }
}
