/// Why an administrative action failed. `message` is safe to show to the administrator.
public struct AdministrationError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The domain name is malformed (400).
        case invalidDomain
        /// The memo is too long or has control characters (400).
        case invalidMemo
        /// The client API key is malformed (400).
        case invalidKey
        /// Some other argument is out of range (400).
        case invalidArgument
        /// The domain is already registered (409).
        case conflict
        /// The domain is not registered (404).
        case notFound
        /// The client API key does not belong to the domain (403).
        case keyMismatch
        /// The store is unreachable for now (503).
        case unavailable
        /// Anything else (500).
        case `internal`
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(storeError: DomainStoreError) {
        switch storeError.code {
        case .conflict: self.init(.conflict, storeError.message)
        case .unavailable: self.init(.unavailable, "the domain store is unavailable; try again shortly")
        case .invalidArgument: self.init(.invalidArgument, storeError.message)
        default: self.init(.internal, "the domain store failed")
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension AdministrationError: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
