import HTTPTypes
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A tunnel connection that behaves as told: refuses before sending anything, breaks after
/// reading the whole request, or answers with its name.
final class ScriptedConnection: TunnelConnection {
    enum Behaviour: Sendable { case unavailable, breaksAfterTheRequest, answers }
    let id: TunnelID
    let name: String
    let behaviour: Behaviour
    private let seen = Mutex<[String]>([])

    init(id: TunnelID, name: String, behaviour: Behaviour) {
        self.id = id
        self.name = name
        self.behaviour = behaviour
    }

    /// The paths of the requests this tunnel was handed (an unavailable one records none).
    var paths: [String] { seen.withLock { $0 } }

    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        if behaviour == .unavailable { throw TunnelExchangeError(.tunnelUnavailable, "\(name) is draining") }
        seen.withLock { $0.append(head.request.path ?? "") }
        let (ended, endedSink) = AsyncStream.makeStream(of: Void.self)
        let requestBody = PartWriter<ExchangeRequestPart> { part in if case .end = part { endedSink.yield() } }
        var answer: [ExchangeResponsePart] = [
            .head(HTTPResponse(status: .ok)), .body(ByteBuffer(string: "\(name) \(head.request.path ?? "")")), .end(nil),
        ]
        let behaviour = self.behaviour
        let name = self.name
        let response = PartStream<ExchangeResponsePart> {
            if behaviour == .breaksAfterTheRequest {
                for await _ in ended { break }
                throw TunnelExchangeError(.tunnelFailed, "\(name) broke")
            }
            return answer.isEmpty ? nil : answer.removeFirst()
        }
        return try await body(requestBody, response)
    }

    func drain() async {}
    func close() async {}
}

@Suite("Routing by path prefix across tunnels, and retries")
struct PathRoutingTests {
    let logs = CapturedLogs()
    let administration: DomainAdministration
    let hub: TunnelHub
    let key: String

    init() async throws {
        administration = DomainAdministration(store: InMemoryDomainStore(), logger: logs.logger())
        key = try await administration.register(domain: "app.example.com", memo: nil).clientAPIKey.secret
        hub = TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: logs.logger())
    }

    /// Admits and opens a tunnel for app.example.com advertising `prefixes`.
    func tunnel(_ name: String, _ prefixes: [String] = [], _ behaviour: ScriptedConnection.Behaviour = .answers) async throws -> ScriptedConnection {
        let services = prefixes.map { TunnelServiceAdvertisement(name: "s", pathPrefix: $0) }
        let welcome = try await hub.admit(
            TunnelHello(domain: "app.example.com", clientAPIKey: key, clientName: name, clientVersion: "1", services: services), peer: .unknown)
        let connection = ScriptedConnection(id: welcome.tunnelID, name: name, behaviour: behaviour)
        await hub.tunnelOpened(connection)
        return connection
    }

    /// The status and body the public client gets for `method path` (with a body when given).
    func request(_ path: String, method: HTTPRequest.Method = .get, body: String? = nil) async throws -> (Int, String) {
        let router = PublicRequestRouter(
            hub: hub, administration: administration, configuration: .init(), timers: MultiThreadedEventLoopGroup.singleton, logger: logs.logger())
        var parts: [ExchangeRequestPart] = body.map { [.body(ByteBuffer(string: $0)), .end(nil)] } ?? [.end(nil)]
        let status = Mutex(0)
        let text = Mutex("")
        try await router.handle(
            HTTPRequest(method: method, scheme: "https", authority: "app.example.com", path: path), peer: PeerAddress(address: "192.0.2.7", port: 1),
            scheme: "https", requestBody: PartStream { parts.isEmpty ? nil : parts.removeFirst() },
            response: PartWriter { part in
                switch part {
                case .head(let head): status.withLock { $0 = head.status.code }
                case .body(let buffer): text.withLock { $0 += String(buffer: buffer) }
                case .end: break
                }
            })
        return (status.withLock { $0 }, text.withLock { $0 })
    }

    @Test func theLongestAdvertisedPrefixWins() async throws {
        _ = try await tunnel("web")
        _ = try await tunnel("api", ["/api"])
        _ = try await tunnel("admin", ["/api/admin/"])
        #expect(try await request("/api/users?x=1").1 == "api /api/users?x=1")
        #expect(try await request("/api").1 == "api /api")
        #expect(try await request("/apix").1 == "web /apix")
        #expect(try await request("/api/admin/x").1 == "admin /api/admin/x")
        // Normalised before matching; forwarded as sent (the client strips, if it does).
        #expect(try await request("/api/../admin").1 == "web /api/../admin")
        #expect(try await request("/x/../api/admin").1 == "admin /x/../api/admin")
        #expect(try await request("*", method: .options).1 == "web *")
        let routes = hub.routes(of: try DomainName(parsing: "app.example.com")).map { "\($0.prefix)=\($0.tunnels)" }
        #expect(routes == ["/=1", "/api=1", "/api/admin=1"])
    }

    @Test func samePrefixIsPooledRoundRobinAndALeavingTunnelTakesNothingNew() async throws {
        let one = try await tunnel("one", ["/api"])
        let two = try await tunnel("two", ["/api", "/"])
        for _ in 0..<4 { _ = try await request("/api/x") }
        #expect(one.paths.count == 2 && two.paths.count == 2)
        #expect(try await request("/other").1 == "two /other")
        await hub.tunnelWantsToLeave(two.id)
        #expect(try await request("/api/x").1 == "one /api/x")
        // The last tunnel for "/" left: nothing serves /other now.
        #expect(try await request("/other").0 == 502)
        #expect(hub.routes(of: try DomainName(parsing: "app.example.com")).map(\.tunnels) == [1])
    }

    @Test func anOnlyPrefixedClientLeavesOtherPathsUnrouted() async throws {
        _ = try await tunnel("api", ["/api"])
        #expect(try await request("/").0 == 502)
        #expect(try await request("/api/x").0 == 200)
    }

    @Test func aRequestNothingWasSentForGoesToAnotherTunnelWhateverItsMethod() async throws {
        let gone = try await tunnel("gone", [], .unavailable)
        _ = try await tunnel("next")
        #expect(try await request("/upload", method: .post, body: "data") == (200, "next /upload"))
        #expect(gone.paths.isEmpty)
    }

    @Test func aBrokenTunnelsGETIsRetriedButNotItsPOSTWithABody() async throws {
        let broken = try await tunnel("broken", [], .breaksAfterTheRequest)
        let next = try await tunnel("next")
        // The first request goes to the first tunnel.
        let (status, _) = try await request("/order", method: .post, body: "pay 10")
        #expect(status == 502)
        #expect(broken.paths == ["/order"] && next.paths.isEmpty)
        // Of two GETs one goes to `broken` first, breaks there and is sent to `next`.
        #expect(try await request("/a") == (200, "next /a"))
        #expect(try await request("/b") == (200, "next /b"))
        #expect(broken.paths.count == 2 && next.paths == ["/a", "/b"])
    }

    @Test func aMalformedAdvertisedPrefixRefusesTheHelloAndNamesIt() async throws {
        let error = await #expect(throws: TunnelRefusal.self) { try await tunnel("bad", ["api"]) }
        #expect(error?.code == .invalidHello)
        #expect(error?.reason.contains("'api'") == true)
        let many = (0...TunnelHub.maximumServices).map { "/s\($0)" }
        let tooMany = await #expect(throws: TunnelRefusal.self) { try await tunnel("many", many) }
        #expect(tooMany?.code == .invalidHello)
    }
}

extension PathRoutingTests {
    @Test func pooledTunnelsThatDisagreeOnStrippingAreLogged() async throws {
        let strip = [TunnelServiceAdvertisement(name: "api", pathPrefix: "/api", stripPrefix: true)]
        let keep = [TunnelServiceAdvertisement(name: "api", pathPrefix: "/api/")]
        for services in [strip, strip, keep] {
            _ = try await hub.admit(
                TunnelHello(domain: "app.example.com", clientAPIKey: key, clientName: "c", clientVersion: "1", services: services), peer: .unknown)
        }
        let warnings = logs.lines.filter { $0.message == "tunnels pooled on a prefix disagree on stripping it" }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["prefixes"] == "/api")
    }
}
