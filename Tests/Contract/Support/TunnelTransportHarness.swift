public import HopGateDomain
import HopGateGRPCTransport
import HopGateLoopbackTransport
public import HopGatePorts
import Logging
import Synchronization

/// Every tunnel transport; the tunnel contract suite runs unchanged against each
/// (`@Test(arguments: TunnelTransportKind.allCases)`). Adding a transport means adding a case
/// and a branch in ``withTunnelTransport(_:heartbeatInterval:drainTimeout:_:)``.
public enum TunnelTransportKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case loopback
    case grpc
    public var description: String { rawValue }
}

/// Faults a test can inject on the client side, in transport-neutral words.
public struct TunnelTransportFaults: Sendable {
    public var stopsAnsweringHeartbeats: Bool
    public init(stopsAnsweringHeartbeats: Bool = false) { self.stopsAnsweringHeartbeats = stopsAnsweringHeartbeats }
}

/// A running server side of one transport, with the real ``TunnelHub`` as its acceptor.
public struct TunnelTransportHarness: Sendable {
    public let hub: TunnelHub
    public let administration: DomainAdministration
    public let closes: TunnelCloseRecorder
    let makeConnector: @Sendable (TunnelTransportFaults) -> any TunnelConnector

    /// A connector to this server.
    public func connector(faults: TunnelTransportFaults = .init()) -> any TunnelConnector { makeConnector(faults) }

    /// Registers `domain` and returns its key.
    public func register(_ domain: String) async throws -> ClientAPIKey {
        try await administration.register(domain: domain, memo: nil).clientAPIKey
    }
}

/// Records why tunnels closed, in order, while passing everything on to the hub.
public final class TunnelCloseRecorder: TunnelAcceptor {
    private let hub: TunnelHub
    private let recorded = Mutex<[TunnelCloseReason]>([])
    init(hub: TunnelHub) { self.hub = hub }
    public var reasons: [TunnelCloseReason] { recorded.withLock { $0 } }
    public func admit(_ hello: TunnelHello, peer: PeerAddress) async throws(TunnelRefusal) -> TunnelWelcome { try await hub.admit(hello, peer: peer) }
    public func tunnelOpened(_ connection: any TunnelConnection) async { await hub.tunnelOpened(connection) }
    public func tunnelClosed(_ id: TunnelID, reason: TunnelCloseReason) async {
        recorded.withLock { $0.append(reason) }
        await hub.tunnelClosed(id, reason: reason)
    }
    public func tunnelHeard(_ id: TunnelID) async { await hub.tunnelHeard(id) }
    public func tunnelWantsToLeave(_ id: TunnelID) async { await hub.tunnelWantsToLeave(id) }
}

/// Starts the server side of `kind` on loopback, runs `body`, and stops it.
/// - Parameters:
///   - heartbeatInterval: at least 1 s in tests that rely on heartbeats (shorter ones time out
///     falsely on a loaded machine).
///   - drainTimeout: how long a draining tunnel's exchanges may take.
public func withTunnelTransport<Result: Sendable>(
    _ kind: TunnelTransportKind, heartbeatInterval: Duration = .seconds(5), drainTimeout: Duration = .seconds(30),
    _ body: @Sendable (TunnelTransportHarness) async throws -> Result
) async throws -> Result {
    let store = InMemoryDomainStore()
    let administration = DomainAdministration(store: store, logger: quietLogger("admin"))
    let hub = TunnelHub(
        administration: administration,
        configuration: .init(policy: .pool(maximum: 8), heartbeatInterval: heartbeatInterval, serverVersion: "contract", drainTimeout: drainTimeout),
        logger: quietLogger("hub"))
    let recorder = TunnelCloseRecorder(hub: hub)
    switch kind {
    case .loopback:
        let network = LoopbackTunnelNetwork()
        let listener = LoopbackTunnelListener(network: network)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await listener.run(acceptor: recorder); return nil }
            defer { group.cancelAll() }
            for _ in 0..<100 { try await Task.sleep(for: .milliseconds(5)); if network.isListening { break } }
            let harness = TunnelTransportHarness(hub: hub, administration: administration, closes: recorder) { faults in
                LoopbackTunnelConnector(network: network, faults: .init(stopsAnsweringHeartbeats: faults.stopsAnsweringHeartbeats))
            }
            return try await body(harness)
        }
    case .grpc:
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let listener = GRPCTunnelListener(host: "127.0.0.1", port: 0, logger: quietLogger("listener"), onListening: { portSink.yield($0) })
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await listener.run(acceptor: recorder); return nil }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestEnvironmentError("the gRPC listener did not start") }
            let harness = TunnelTransportHarness(hub: hub, administration: administration, closes: recorder) { faults in
                GRPCTunnelConnector(host: "127.0.0.1", port: port, logger: quietLogger("connector"),
                                    faults: .init(stopsAnsweringHeartbeats: faults.stopsAnsweringHeartbeats))
            }
            return try await body(harness)
        }
    }
}
