import HopGatePorts
import PostgresNIO

extension DomainStoreError {
    /// The domain-level form of a PostgreSQL failure. The driver's error may carry query text,
    /// so it is kept only as `cause`; `message` names the operation and the class of failure.
    static func postgres(_ error: any Error, while operation: String) -> DomainStoreError {
        if let error = error as? DomainStoreError { return error }
        guard let psql = error as? PSQLError else {
            if error is CancellationError {
                return DomainStoreError(.unavailable, "PostgreSQL \(operation) was cancelled", cause: error)
            }
            return DomainStoreError(.unavailable, "PostgreSQL \(operation) failed", cause: error)
        }
        guard psql.code == .server, let state = psql.serverInfo?[.sqlState] else {
            return DomainStoreError(.unavailable, "PostgreSQL \(operation) failed: the database cannot be reached (\(psql.code))", cause: psql)
        }
        switch state {
        case PostgresError.Code.uniqueViolation.raw:
            return DomainStoreError(.conflict, "\(operation): the domain is already registered", cause: psql)
        case _ where state.hasPrefix("08"), _ where state.hasPrefix("57"), _ where state.hasPrefix("53"):
            return DomainStoreError(.unavailable, "PostgreSQL \(operation) failed: the server is unavailable (SQLSTATE \(state))", cause: psql)
        case _ where state.hasPrefix("28"):
            return DomainStoreError(.unavailable, "PostgreSQL \(operation) failed: authentication was refused (SQLSTATE \(state))", cause: psql)
        case _ where state.hasPrefix("XX"):
            return DomainStoreError(.corrupted, "PostgreSQL \(operation) failed: internal database error (SQLSTATE \(state))", cause: psql)
        default:
            return DomainStoreError(.internal, "PostgreSQL \(operation) failed (SQLSTATE \(state))", cause: psql)
        }
    }
}
