public import HopGatePorts
import Synchronization

/// An in-process "address" joining a ``LoopbackTunnelListener`` and its
/// ``LoopbackTunnelConnector``s: the transport for tests and for embedding a client and a server
/// in one process. Semantics match the gRPC transport (the contract suite runs on both).
public final class LoopbackTunnelNetwork: Sendable {
    private let acceptor = Mutex<(any TunnelAcceptor)?>(nil)

    public init() {}

    func register(_ acceptor: any TunnelAcceptor) { self.acceptor.withLock { $0 = acceptor } }
    func unregister() { acceptor.withLock { $0 = nil } }
    var currentAcceptor: (any TunnelAcceptor)? { acceptor.withLock { $0 } }

    /// Whether a listener is running on this network.
    public var isListening: Bool { currentAcceptor != nil }
}

/// The server side: makes the acceptor reachable on the network until the task is cancelled.
public struct LoopbackTunnelListener: TunnelListener {
    private let network: LoopbackTunnelNetwork

    public init(network: LoopbackTunnelNetwork) { self.network = network }

    public func run(acceptor: any TunnelAcceptor) async throws {
        network.register(acceptor)
        defer { network.unregister() }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
