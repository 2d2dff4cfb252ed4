import Crypto

/// The administrator's key, as configured, and the check of an `Authorization` header against it.
public struct AdminCredential: Sendable {
    /// The shortest admin key accepted outside development mode.
    public static let minimumLength = 32

    /// Whether the server runs in production (strict) or development mode.
    public enum Mode: Sendable, Hashable {
        case production
        case development
    }

    private let digest: [UInt8]

    /// Accepts the configured admin key.
    /// - Throws: ``AdminCredentialError`` when the key is empty, or shorter than 32 characters
    ///   in production mode.
    public init(configuredKey: String, mode: Mode) throws(AdminCredentialError) {
        let key = configuredKey.trimmingWhitespace()
        if key.isEmpty { throw AdminCredentialError(.emptyKey) }
        if mode == .production && key.count < Self.minimumLength { throw AdminCredentialError(.keyTooShort) }
        if key.contains(where: { $0 == " " || $0 == "\t" }) { throw AdminCredentialError(.keyHasWhitespace) }
        self.digest = Array(SHA256.hash(data: Array(key.utf8)))
    }

    /// Whether an `Authorization` header value carries this admin key as a Bearer token.
    /// Comparison is in constant time (over digests, so the key's length does not leak either).
    public func authorizes(authorizationHeader: String?) -> Bool {
        guard let header = authorizationHeader, let token = try? BearerToken(parsing: header) else { return false }
        return authorizes(token)
    }

    /// Whether `token` is this admin key.
    public func authorizes(_ token: BearerToken) -> Bool {
        ConstantTime.equal(digest, Array(SHA256.hash(data: Array(token.value.utf8))))
    }
}

/// Why a configured admin key was refused.
public struct AdminCredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case emptyKey, keyTooShort, keyHasWhitespace
    }
    public let code: Code
    init(_ code: Code) { self.code = code }
    public var description: String {
        switch code {
        case .emptyKey: return "the admin API key is empty"
        case .keyTooShort: return "the admin API key must be at least \(AdminCredential.minimumLength) characters long outside development mode"
        case .keyHasWhitespace: return "the admin API key must not contain spaces or tabs"
        }
    }
}
