/// The size and idle policy of a ``PostgresDomainStore``'s connection pool
/// (`HOP_DB_MAX_CONNECTIONS`, `HOP_DB_CONN_IDLE_TIMEOUT`).
public struct PostgresPoolSettings: Sendable, Equatable {
    /// Connections open to the server at most at once.
    public var maximumConnections: Int
    /// How long a connection may sit unused before the pool closes it.
    public var idleTimeout: Duration

    /// - Parameters:
    ///   - maximumConnections: at least 1; default 10.
    ///   - idleTimeout: above zero; default 60 s.
    public init(maximumConnections: Int = 10, idleTimeout: Duration = .seconds(60)) {
        precondition(maximumConnections >= 1 && idleTimeout > .zero, "a pool needs a connection and an idle timeout above zero")
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
    }
}
