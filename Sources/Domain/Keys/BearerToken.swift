/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
///
/// The scheme is matched case-insensitively and whitespace around the value is tolerated;
/// anything else (another scheme, no token, a token with spaces or non-token68 characters)
/// is refused.
public struct BearerToken: Sendable, Hashable, CustomStringConvertible {
    /// The token text. A secret: never log it.
    public let value: String

    public init(parsing header: String) throws(BearerTokenError) {
        let trimmed = header.trimmingWhitespace()
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
            throw BearerTokenError(trimmed.isEmpty ? .empty : (trimmed.lowercased() == "bearer" ? .missingToken : .notBearer))
        }
        guard trimmed[..<space].lowercased() == "bearer" else { throw BearerTokenError(.notBearer) }
        let token = trimmed[space...].trimmingWhitespace()
        guard !token.isEmpty else { throw BearerTokenError(.missingToken) }
        guard token.unicodeScalars.allSatisfy(Self.isToken68) else { throw BearerTokenError(.malformedToken) }
        self.value = token
    }

    /// `token68` from RFC 9110 §11.2: `A-Z a-z 0-9 - . _ ~ + /` followed by optional `=` padding.
    private static func isToken68(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_", "~", "+", "/", "=": return true
        default: return false
        }
    }

    public var description: String { "Bearer <redacted>" }
}

/// Why an `Authorization` header is not a usable Bearer token.
public struct BearerTokenError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case empty, notBearer, missingToken, malformedToken
    }
    public let code: Code
    init(_ code: Code) { self.code = code }
    public var description: String {
        switch code {
        case .empty: return "the Authorization header is empty"
        case .notBearer: return "the Authorization header does not use the Bearer scheme"
        case .missingToken: return "the Authorization header has no token after 'Bearer'"
        case .malformedToken: return "the Bearer token contains characters that a token may not contain"
        }
    }
}
