import Foundation

/// An ACME operation failed. The message names the step and, for a CA's refusal, the problem
/// document's type and detail (RFC 7807); it never contains key material.
public struct ACMEError: Error, Equatable, CustomStringConvertible {
    /// What kind of failure, for callers that branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case problem, protocolViolation, transport, storage, challengeFailed, timedOut }
        private let kind: Kind
        /// The CA refused a request with a problem document.
        public static let problem = Code(kind: .problem)
        /// The CA answered something RFC 8555 does not allow (missing header, malformed JSON …).
        public static let protocolViolation = Code(kind: .protocolViolation)
        /// The CA could not be reached or the connection broke.
        public static let transport = Code(kind: .transport)
        /// Account or certificate files could not be read or written.
        public static let storage = Code(kind: .storage)
        /// The CA could not validate a challenge.
        public static let challengeFailed = Code(kind: .challengeFailed)
        /// An order or authorization stayed pending too long.
        public static let timedOut = Code(kind: .timedOut)
        public var description: String { kind.rawValue }
    }

    public let code: Code
    public let message: String
    /// The CA's problem document, when it sent one.
    public let problem: ACMEProblem?

    init(_ code: Code, _ message: String, problem: ACMEProblem? = nil) {
        self.code = code
        self.message = message
        self.problem = problem
    }

    public var description: String {
        guard let problem else { return message }
        return "\(message): \(problem)"
    }

    public static func == (lhs: ACMEError, rhs: ACMEError) -> Bool { lhs.code == rhs.code }
}

/// An RFC 7807 problem document as ACME CAs send them (RFC 8555 §6.7).
public struct ACMEProblem: Decodable, Sendable, Hashable, CustomStringConvertible {
    /// E.g. `urn:ietf:params:acme:error:badNonce`.
    public let type: String
    public let detail: String?
    public let status: Int?
    public let subproblems: [ACMEProblem]?

    /// The ACME error name without its URN prefix (`badNonce`), or the whole type.
    public var name: String {
        let prefix = "urn:ietf:params:acme:error:"
        return type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type
    }

    public var description: String {
        var text = "\(name)"
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        if let subproblems, !subproblems.isEmpty { text += "; " + subproblems.map(\.description).joined(separator: "; ") }
        return text
    }

    /// Parses a problem document; nil when `data` is not one.
    static func parse(_ data: Data) -> ACMEProblem? {
        guard let problem = try? JSONDecoder().decode(ACMEProblem.self, from: data), !problem.type.isEmpty else { return nil }
        return problem
    }
}
