/// How many idle Exchange streams a tunnel client keeps open: a few on a tunnel that has not
/// been busy, growing by one with each request taken, up to what the server asks for.
///
/// A pure counter the client's pool calls on each event; each call says how many streams to
/// open now. An idle stream costs both ends memory (a parked HTTP/2 stream), and opening the
/// server's whole pool at once made 1,000 connecting clients slow. Growth follows requests, not
/// the client's own count of running exchanges: requests waiting at the edge for a stream are
/// not running yet, so that count stays low exactly when more streams are needed (measured:
/// half the throughput at 50 connections). The pool does not shrink yet.
public struct ExchangePoolSizing: Sendable, Hashable {
    /// Idle streams kept on a tunnel that has not been busy.
    public let minimumIdle: Int
    /// The most idle streams ever kept (the server's `exchange_pool_size`).
    public let maximumIdle: Int
    /// The idle streams wanted now.
    public private(set) var target: Int
    /// Streams opened and not yet given a request.
    public private(set) var idle = 0

    public init(minimumIdle: Int = 2, maximumIdle: Int) {
        self.maximumIdle = max(1, maximumIdle)
        self.minimumIdle = min(max(1, minimumIdle), self.maximumIdle)
        self.target = self.minimumIdle
    }

    /// The tunnel is up: how many streams to open.
    public mutating func start() -> Int { topUp() }

    /// An idle stream was given a request: how many streams to open (its replacement, and one
    /// more while the pool is below the maximum).
    public mutating func streamTaken() -> Int {
        idle = max(0, idle - 1)
        target = min(maximumIdle, target + 1)
        return topUp()
    }

    private mutating func topUp() -> Int {
        let missing = max(0, target - idle)
        idle += missing
        return missing
    }
}
