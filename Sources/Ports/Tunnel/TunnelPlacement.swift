/// Where a tunnel's connection runs on the edge: one of the edge's `loops` event loops, by
/// index. A transport that knows it tells the acceptor
/// (``TunnelAcceptor/tunnelPlaced(_:on:)``), which spreads a route's tunnels over the loops
/// (``TunnelLoopSpread``).
public struct TunnelPlacement: Sendable, Hashable, CustomStringConvertible {
    /// The loop's index, below ``loops``.
    public let loop: Int
    /// How many event loops the edge's connections run on.
    public let loops: Int

    public init(loop: Int, loops: Int) {
        self.loop = loop
        self.loops = loops
    }

    public var description: String { "event loop \(loop + 1) of \(loops)" }
}
