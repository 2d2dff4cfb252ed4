import HopGatePorts
import NIOCore
import NIOPosix

/// The event loops the edge's connections run on (NIO's shared group, on which both public
/// ports and the tunnel port accept), in a fixed order, so that a tunnel's loop can be told to
/// the acceptor as an index (``TunnelPlacement``).
enum EdgeEventLoops {
    private static let loops: [ObjectIdentifier] = MultiThreadedEventLoopGroup.singleton.makeIterator().map { ObjectIdentifier($0) }

    /// Where `loop` is among the edge's loops; nil for a loop of another group (a test's).
    static func placement(of loop: any EventLoop) -> TunnelPlacement? {
        loops.firstIndex(of: ObjectIdentifier(loop)).map { TunnelPlacement(loop: $0, loops: loops.count) }
    }
}
