/// Why a string is not an acceptable domain name. Each case carries a sentence a person understands.
public struct DomainNameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule that was broken.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case empty, missingDot, emptyLabel, labelTooLong, nameTooLong, invalidCharacter
            case hyphenAtLabelEdge, ipLiteral, wildcardNotAllowed, invalidPort
        }
        fileprivate let value: Value
        /// The name is empty (or only whitespace).
        public static let empty = Code(value: .empty)
        /// The name has a single label, like `localhost`.
        public static let missingDot = Code(value: .missingDot)
        /// Two dots in a row, or a leading dot.
        public static let emptyLabel = Code(value: .emptyLabel)
        /// A label is longer than 63 characters.
        public static let labelTooLong = Code(value: .labelTooLong)
        /// The whole name is longer than 253 characters.
        public static let nameTooLong = Code(value: .nameTooLong)
        /// A character outside `a-z`, `0-9` and `-`.
        public static let invalidCharacter = Code(value: .invalidCharacter)
        /// A label starts or ends with `-`.
        public static let hyphenAtLabelEdge = Code(value: .hyphenAtLabelEdge)
        /// An IPv4 or IPv6 address was given instead of a name.
        public static let ipLiteral = Code(value: .ipLiteral)
        /// A `*` label where wildcards are not allowed (or not as the whole first label).
        public static let wildcardNotAllowed = Code(value: .wildcardNotAllowed)
        /// A `:port` suffix that is not a number from 0 to 65535.
        public static let invalidPort = Code(value: .invalidPort)

        public var description: String { value.rawValue }
    }

    /// The rule that was broken; errors are equal when their codes are.
    public let code: Code
    /// The offending part, when one can be named (a character or a label).
    public let detail: String?
    /// The text that was parsed, truncated to 80 characters.
    public let input: String

    init(_ code: Code, input: String, detail: String? = nil) {
        self.code = code
        self.detail = detail
        self.input = input.count > 80 ? String(input.prefix(80)) + "…" : input
    }

    /// A sentence that says what is wrong and what would be valid.
    public var message: String {
        switch code.value {
        case .empty: return "the domain name is empty"
        case .missingDot: return "'\(input)' is not a fully qualified domain name: it needs at least two labels, like example.com"
        case .emptyLabel: return "'\(input)' has an empty label (two dots in a row or a leading dot)"
        case .labelTooLong: return "'\(input)' has a label longer than 63 characters (\(detail ?? ""))"
        case .nameTooLong: return "the domain name is longer than 253 characters"
        case .invalidCharacter:
            return "'\(input)' contains '\(detail ?? "?")'; only letters a-z, digits and '-' are allowed (write internationalised names in their xn-- form)"
        case .hyphenAtLabelEdge: return "'\(input)' has a label that starts or ends with '-' (\(detail ?? ""))"
        case .ipLiteral: return "'\(input)' is an IP address; a domain name is required"
        case .wildcardNotAllowed: return "'\(input)' contains a wildcard '*', which is not allowed here"
        case .invalidPort: return "'\(input)' ends with a port that is not a number from 0 to 65535"
        }
    }

    public var description: String { "invalid domain name: \(message)" }

    public static func == (lhs: DomainNameError, rhs: DomainNameError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
