import HopGateDomain
import HopGateGRPCTransport
import HopGatePorts
import HopGateTestSupport
import Testing

/// A real TunnelHub behind a plaintext gRPC tunnel listener on a loopback port, with `domain`
/// registered: `body` gets the hub, the domain's client key and the port. The listener stops when
/// `body` returns.
func withGRPCTunnelServer(
    domain: String, heartbeat: Duration = .seconds(10),
    _ body: (_ hub: TunnelHub, _ key: ClientAPIKey, _ port: Int) async throws -> Void
) async throws {
    let administration = DomainAdministration(store: InMemoryDomainStore(), logger: quietLogger("admin"))
    let hub = TunnelHub(
        administration: administration, configuration: .init(heartbeatInterval: heartbeat, serverVersion: "test"), logger: quietLogger("hub"))
    let key = try await administration.register(domain: domain, memo: nil).clientAPIKey
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let listener = GRPCTunnelListener(host: "127.0.0.1", port: 0, logger: quietLogger("listener"), onListening: { portSink.yield($0) })
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await listener.run(acceptor: hub) }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        try await body(hub, key, try #require(await iterator.next()))
    }
}

/// The hub's tunnel for `domain` once one is open (waits up to 10 s: under the whole suite's
/// parallel load on two cores a client's connect and hello took more than 2 s), or nil.
func openedTunnel(of hub: TunnelHub, for domain: String) async throws -> (any TunnelConnection)? {
    let name = try DomainName(parsing: domain)
    for _ in 0..<1000 where hub.connection(for: name) == nil { try await Task.sleep(for: .milliseconds(10)) }
    return hub.connection(for: name)
}
