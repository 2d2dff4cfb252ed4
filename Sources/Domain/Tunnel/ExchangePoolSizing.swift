/// How many idle Exchange streams a tunnel client keeps open: a few while the tunnel is quiet,
/// more while many requests run at once, never more than the server asks for.
///
/// A pure counter the client's pool calls on each event; each call says how many streams to
/// open now. An idle stream costs both ends memory (a parked HTTP/2 stream), and a tunnel
/// opening one for every idle slot at once made 1,000 connecting clients slow; a pool that
/// stayed small under load made requests wait for a stream to be opened.
public struct ExchangePoolSizing: Sendable, Hashable {
    /// Idle streams kept while nothing runs.
    public let minimumIdle: Int
    /// The most idle streams ever kept (the server's `exchange_pool_size`).
    public let maximumIdle: Int
    /// Streams opened and not yet given a request.
    public private(set) var idle = 0
    /// Exchanges running.
    public private(set) var inFlight = 0

    public init(minimumIdle: Int = 2, maximumIdle: Int) {
        self.maximumIdle = max(1, maximumIdle)
        self.minimumIdle = min(max(1, minimumIdle), self.maximumIdle)
    }

    /// The idle streams wanted for the current concurrency: the minimum plus half the running
    /// exchanges (a burst that doubles the concurrency finds streams ready), at most the maximum.
    public var target: Int { min(maximumIdle, minimumIdle + inFlight / 2) }

    /// The tunnel is up: how many streams to open.
    public mutating func start() -> Int { topUp() }

    /// An idle stream was given a request: how many streams to open.
    public mutating func streamTaken() -> Int {
        idle = max(0, idle - 1)
        inFlight += 1
        return topUp()
    }

    /// An exchange ended: how many streams to open (none, unless the target moved).
    public mutating func exchangeFinished() -> Int {
        inFlight = max(0, inFlight - 1)
        return topUp()
    }

    private mutating func topUp() -> Int {
        let missing = max(0, target - idle)
        idle += missing
        return missing
    }
}
