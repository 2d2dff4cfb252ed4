/// Spreads the pooled tunnels of one route over the edge's event loops.
///
/// The edge serves a request on its public connection's event loop and prefers a tunnel whose
/// connection runs on the same loop (no hop between threads; each tunnel's TLS and HTTP/2 work
/// on a core of its own). A client that holds one tunnel per edge core (`--tunnels N`) only
/// gets that when its connections land on different loops, and where a connection lands is
/// the edge's accept order, which other connections interleave with. So a tunnel that lands on
/// a loop another tunnel of its route already has, while some loop has none, is redrawn: the
/// edge drains it and its client reconnects, landing again.
///
/// Redraws are rationed per key (a domain): at most ``maximumRedraws`` in any ``window``, so
/// that an edge whose accepts keep pairing them up costs a few reconnects, not a storm.
public struct TunnelLoopSpread<Key: Hashable & Sendable>: Sendable {
    /// The most redraws per key in any ``window``.
    public static var maximumRedraws: Int { 4 }
    /// See ``maximumRedraws``.
    public static var window: Duration { .seconds(60) }

    private var redraws: [Key: [ContinuousClock.Instant]] = [:]

    public init() {}

    /// Whether the tunnel that has just landed on `loop` (an index below `loops`) should be
    /// redrawn; counts the redraw when it should.
    /// - Parameter siblingLoops: the loops of the route's other tunnels that take exchanges.
    public mutating func shouldRedraw(
        _ key: Key, landedOn loop: Int, siblingsOn siblingLoops: [Int], loops: Int, at now: ContinuousClock.Instant
    ) -> Bool {
        // Only a shared loop, while another has none of the route's tunnels, is worth a redraw.
        guard loops > 1, siblingLoops.contains(loop), Set(siblingLoops).count < loops else { return false }
        var recent = (redraws[key] ?? []).filter { now - $0 < Self.window }
        defer { redraws[key] = recent }
        guard recent.count < Self.maximumRedraws else { return false }
        recent.append(now)
        return true
    }

    /// Drops what is remembered of `key` (its last tunnel closed).
    public mutating func forget(_ key: Key) { redraws[key] = nil }
}
