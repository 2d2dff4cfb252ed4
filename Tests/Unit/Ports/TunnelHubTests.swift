import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import MetricsTestKit
import Synchronization
import Testing

/// A tunnel connection that only records what the hub does to it.
final class RecordingConnection: TunnelConnection {
    let id: TunnelID
    private let calls = Mutex<[String]>([])
    /// What ``isOnCurrentEventLoop`` answers.
    let local = Mutex(false)
    init(id: TunnelID) { self.id = id }
    var isOnCurrentEventLoop: Bool { local.withLock { $0 } }
    var recorded: [String] { calls.withLock { $0 } }

    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        throw TunnelExchangeError(.tunnelUnavailable, "recording only")
    }
    func drain() async { calls.withLock { $0.append("drain") } }
    func close() async { calls.withLock { $0.append("close") } }
}

@Suite("TunnelHub")
struct TunnelHubTests {
    let store = InMemoryDomainStore()
    let logs = CapturedLogs()

    func makeHub(policy: TunnelAdmissionPolicy = .default) -> (TunnelHub, DomainAdministration) {
        let admin = DomainAdministration(store: store, logger: logs.logger())
        let hub = TunnelHub(administration: admin, configuration: .init(policy: policy, serverVersion: "test"), logger: logs.logger())
        return (hub, admin)
    }

    func hello(_ domain: String, _ key: String) -> TunnelHello {
        TunnelHello(domain: domain, clientAPIKey: key, clientName: "test", clientVersion: "1")
    }

    func open(_ hub: TunnelHub, _ domain: String, _ key: String) async throws -> RecordingConnection {
        let welcome = try await hub.admit(hello(domain, key), peer: PeerAddress(address: "127.0.0.1", port: 1))
        let connection = RecordingConnection(id: welcome.tunnelID)
        await hub.tunnelOpened(connection)
        return connection
    }

    @Test func admitsTheRightKeyAndBindsTheDomain() async throws {
        let (hub, admin) = makeHub()
        let issued = try await admin.register(domain: "a.example.com", memo: nil)
        _ = try await admin.register(domain: "b.example.com", memo: nil)
        let connection = try await open(hub, "A.Example.com", issued.clientAPIKey.secret)
        #expect(hub.connection(for: try DomainName(parsing: "a.example.com"))?.id == connection.id)
        #expect(hub.connection(for: try DomainName(parsing: "b.example.com")) == nil)
        #expect(hub.tunnelCount == 1)
    }

    @Test("the tunnel and route gauges end at the true counts when many tunnels close at once")
    func gaugesEndAtTheTrueCountsAfterConcurrentCloses() async throws {
        let metrics = TestMetrics()
        let admin = DomainAdministration(store: store, logger: logs.logger())
        let hub = TunnelHub(administration: admin, configuration: .init(serverVersion: "test"), logger: logs.logger(), metrics: metrics)
        var connections: [RecordingConnection] = []
        var keys: [String] = []
        for index in 0..<100 {
            keys.append(try await admin.register(domain: "t\(index).example.com", memo: nil).clientAPIKey.secret)
            connections.append(try await open(hub, "t\(index).example.com", keys[index]))
        }
        #expect(try metrics.expectGauge(HopGateMetrics.activeTunnels).lastValue == 100)
        // A few rounds: published out of order, a stale count lands last now and then, not always.
        for _ in 0..<20 {
            await withTaskGroup(of: Void.self) { group in
                for connection in connections.dropFirst() {
                    group.addTask { await hub.tunnelClosed(connection.id, reason: .transportClosed) }
                }
            }
            #expect(hub.tunnelCount == 1)
            #expect(try metrics.expectGauge(HopGateMetrics.activeTunnels).lastValue == 1)
            #expect(try metrics.expectGauge(HopGateMetrics.routes).lastValue == 1)
            // Open them again for the next round (new tunnels for the same domains).
            for index in 1..<100 { connections[index] = try await open(hub, "t\(index).example.com", keys[index]) }
            #expect(try metrics.expectGauge(HopGateMetrics.activeTunnels).lastValue == 100)
        }
    }

    @Test func theWelcomeSetsTheSessionsDeadlines() async throws {
        let admin = DomainAdministration(store: store, logger: logs.logger())
        let hub = TunnelHub(
            administration: admin, configuration: .init(heartbeatInterval: .seconds(4), serverVersion: "test", drainTimeout: .seconds(7)),
            logger: logs.logger())
        let issued = try await admin.register(domain: "a.example.com", memo: nil)
        let welcome = try await hub.admit(hello("a.example.com", issued.clientAPIKey.secret), peer: PeerAddress(address: "127.0.0.1", port: 1))
        #expect(welcome.drainTimeout == .seconds(7))
        #expect(welcome.lifecycleConfiguration.heartbeatTimeout == .seconds(12))
        #expect(welcome.lifecycleConfiguration.drainTimeout == .seconds(7))
        let lifecycle = welcome.acceptedLifecycle()
        #expect(lifecycle.acceptsExchanges)
    }

    @Test func refusals() async throws {
        let (hub, admin) = makeHub()
        let a = try await admin.register(domain: "a.example.com", memo: nil)
        let b = try await admin.register(domain: "b.example.com", memo: nil)
        let cases: [(TunnelHello, TunnelRefusal.Code)] = [
            (hello("a.example.com", b.clientAPIKey.secret), .permissionDenied),
            (hello("c.example.com", a.clientAPIKey.secret), .permissionDenied),
            (hello("a.example.com", "short"), .unauthenticated),
            (hello("not a domain", a.clientAPIKey.secret), .invalidHello),
        ]
        for (hello, code) in cases {
            let error = await #expect(throws: TunnelRefusal.self) { try await hub.admit(hello, peer: .unknown) }
            #expect(error?.code == code)
        }
        #expect(!logs.text.contains(a.clientAPIKey.secret))
        #expect(!logs.text.contains(b.clientAPIKey.secret))
        #expect(logs.lines.filter { $0.message == "tunnel refused" }.count == 4)
    }

    @Test func anAddressWithRepeatedWrongKeysIsTurnedAwayEvenWithTheRightOne() async throws {
        let admin = DomainAdministration(store: store, logger: logs.logger())
        let hub = TunnelHub(
            administration: admin, configuration: .init(serverVersion: "test"),
            throttle: AuthenticationThrottle(policy: .init(maximumFailures: 2, lockout: .seconds(60))), logger: logs.logger())
        let a = try await admin.register(domain: "a.example.com", memo: nil)
        for _ in 0..<2 {
            let error = await #expect(throws: TunnelRefusal.self) {
                try await hub.admit(hello("a.example.com", ClientAPIKey.generate().secret), peer: PeerAddress(address: "192.0.2.9", port: 4000))
            }
            #expect(error?.code == .permissionDenied)
        }
        let turnedAway = await #expect(throws: TunnelRefusal.self) {
            try await hub.admit(hello("a.example.com", a.clientAPIKey.secret), peer: PeerAddress(address: "192.0.2.9", port: 4001))
        }
        #expect(turnedAway?.code == .unavailable)
        #expect(turnedAway?.reason.contains("too many failed authentications from 192.0.2.9") == true)
        _ = try await hub.admit(hello("a.example.com", a.clientAPIKey.secret), peer: PeerAddress(address: "192.0.2.10", port: 4000))
        #expect(logs.lines.contains { $0.message == "address turned away after repeated authentication failures" })
    }

    @Test func storeOutageIsUnavailable() async throws {
        let (hub, admin) = makeHub()
        let a = try await admin.register(domain: "a.example.com", memo: nil)
        store.failEveryCall(with: DomainStoreError(.unavailable, "down"))
        let error = await #expect(throws: TunnelRefusal.self) { try await hub.admit(hello("a.example.com", a.clientAPIKey.secret), peer: .unknown) }
        #expect(error?.code == .unavailable)
    }

    @Test func poolBalancesAndFailsOver() async throws {
        let (hub, admin) = makeHub(policy: .pool(maximum: 2))
        let key = try await admin.register(domain: "a.example.com", memo: nil).clientAPIKey.secret
        let one = try await open(hub, "a.example.com", key)
        let two = try await open(hub, "a.example.com", key)
        let error = await #expect(throws: TunnelRefusal.self) { try await hub.admit(hello("a.example.com", key), peer: .unknown) }
        #expect(error?.code == .tooManyTunnels)
        let domain = try DomainName(parsing: "a.example.com")
        let picks = (0..<4).compactMap { _ in hub.connection(for: domain)?.id }
        #expect(picks == [one.id, two.id, one.id, two.id])
        await hub.tunnelClosed(one.id, reason: .transportClosed)
        #expect(hub.connection(for: domain)?.id == two.id)
        #expect(hub.tunnelCount == 1)
    }

    @Test("a tunnel on the caller's event loop is chosen first; the others take over when it goes")
    func aTunnelOnTheCallersLoopGoesFirst() async throws {
        let (hub, admin) = makeHub(policy: .pool(maximum: 3))
        let key = try await admin.register(domain: "a.example.com", memo: nil).clientAPIKey.secret
        let one = try await open(hub, "a.example.com", key)
        let two = try await open(hub, "a.example.com", key)
        let three = try await open(hub, "a.example.com", key)
        two.local.withLock { $0 = true }
        let domain = try DomainName(parsing: "a.example.com")
        #expect((0..<4).compactMap { _ in hub.connection(for: domain)?.id } == [two.id, two.id, two.id, two.id])
        // A retry excludes the tunnel that failed: the others, in turn.
        #expect((0..<2).compactMap { _ in hub.connection(for: domain, excluding: [two.id])?.id } == [three.id, one.id])
        await hub.tunnelClosed(two.id, reason: .transportClosed)
        let rest = (0..<4).compactMap { _ in hub.connection(for: domain)?.id }
        #expect(Set(rest) == [one.id, three.id] && rest[0] != rest[1], "round-robin over the other two: \(rest)")
    }

    @Test func replacePolicyDrainsTheOlderTunnel() async throws {
        let (hub, admin) = makeHub(policy: .replace)
        let key = try await admin.register(domain: "a.example.com", memo: nil).clientAPIKey.secret
        let old = try await open(hub, "a.example.com", key)
        let new = try await open(hub, "a.example.com", key)
        #expect(old.recorded == ["drain"])
        #expect(hub.connection(for: try DomainName(parsing: "a.example.com"))?.id == new.id)
    }

    @Test func unregisterAndRotationCloseTunnels() async throws {
        let (hub, admin) = makeHub()
        let admin2 = DomainAdministration(store: store, observers: [hub], logger: logs.logger())
        let issued = try await admin.register(domain: "a.example.com", memo: nil)
        let connection = try await open(hub, "a.example.com", issued.clientAPIKey.secret)
        let rotated = try await admin2.rotateKey(domain: "a.example.com")
        #expect(connection.recorded == ["close"])
        let again = try await open(hub, "a.example.com", rotated.clientAPIKey.secret)
        try await admin2.unregister(domain: "a.example.com", clientAPIKey: rotated.clientAPIKey.secret)
        #expect(again.recorded == ["close"])
    }

    @Test func drainAllStopsAdmissions() async throws {
        let (hub, admin) = makeHub()
        let key = try await admin.register(domain: "a.example.com", memo: nil).clientAPIKey.secret
        let connection = try await open(hub, "a.example.com", key)
        await hub.drainAll()
        #expect(connection.recorded == ["drain"])
        #expect(hub.connection(for: try DomainName(parsing: "a.example.com")) == nil)
        let error = await #expect(throws: TunnelRefusal.self) { try await hub.admit(hello("a.example.com", key), peer: .unknown) }
        #expect(error?.code == .unavailable)
    }

    @Test("a tunnel that lands on a loop its route's other tunnel has, while a loop is free, is drained and routed no more")
    func aPairedTunnelIsRedrawn() async throws {
        let (hub, admin) = makeHub()
        let key = try await admin.register(domain: "a.example.com", memo: nil).clientAPIKey.secret
        let other = try await admin.register(domain: "b.example.com", memo: nil).clientAPIKey.secret
        let domain = try DomainName(parsing: "a.example.com")
        let first = try await open(hub, "a.example.com", key)
        let second = try await open(hub, "a.example.com", key)
        let elsewhere = try await open(hub, "b.example.com", other)
        await hub.tunnelPlaced(first.id, on: TunnelPlacement(loop: 0, loops: 2))
        await hub.tunnelPlaced(elsewhere.id, on: TunnelPlacement(loop: 0, loops: 2))
        #expect(first.recorded.isEmpty && elsewhere.recorded.isEmpty, "alone on their loops, or of another domain")
        await hub.tunnelPlaced(second.id, on: TunnelPlacement(loop: 0, loops: 2))
        #expect(second.recorded == ["drain"])
        #expect(first.recorded.isEmpty)
        #expect((0..<4).compactMap { _ in hub.connection(for: domain)?.id } == Array(repeating: first.id, count: 4))
        // Its client's next tunnel lands on the free loop and stays.
        await hub.tunnelClosed(second.id, reason: .drained)
        let third = try await open(hub, "a.example.com", key)
        await hub.tunnelPlaced(third.id, on: TunnelPlacement(loop: 1, loops: 2))
        #expect(third.recorded.isEmpty)
        #expect(Set((0..<4).compactMap { _ in hub.connection(for: domain)?.id }) == [first.id, third.id])
    }

    @Test func openingAnUnknownTunnelClosesIt() async {
        let (hub, _) = makeHub()
        let stray = RecordingConnection(id: TunnelID())
        await hub.tunnelOpened(stray)
        #expect(stray.recorded == ["close"])
    }
}
