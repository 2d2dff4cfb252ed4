/// A storage failure, in the domain's words. Carries no secrets: never a key, never a DSN
/// password; the driver's error is kept as `cause` for logs at debug level.
public struct DomainStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable { case conflict, unavailable, corrupted, invalidArgument, `internal` }
        fileprivate let value: Value
        /// The domain is already registered (unique constraint).
        public static let conflict = Code(value: .conflict)
        /// The database cannot be reached or refused the operation for now (retry later; 503).
        public static let unavailable = Code(value: .unavailable)
        /// A stored row cannot be read back into a record.
        public static let corrupted = Code(value: .corrupted)
        /// An argument the store cannot accept (e.g. a non-positive page size).
        public static let invalidArgument = Code(value: .invalidArgument)
        /// Anything else.
        public static let `internal` = Code(value: .internal)
        public var description: String { value.rawValue }
    }

    public let code: Code
    /// A sentence for people; safe to log and to return to an administrator.
    public let message: String
    /// The underlying error, for debugging. Its description may contain query text.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }
}

extension DomainStoreError: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
