/// Why the pooled forwarder could not complete an exchange. Equal by code; the description
/// names no request data.
struct PooledForwardingError: Error, Hashable, CustomStringConvertible {
    /// What went wrong.
    struct Code: Hashable, Sendable {
        fileprivate enum Kind: Hashable { case connectionClosed, closedBeforeResponse, requestBodyLength, noFinalResponse }
        fileprivate let kind: Kind
        /// The connection closed before the response ended.
        static let connectionClosed = Code(kind: .connectionClosed)
        /// The service closed the connection before any of the response came.
        static let closedBeforeResponse = Code(kind: .closedBeforeResponse)
        /// The request body was shorter than its `Content-Length`.
        static let requestBodyLength = Code(kind: .requestBodyLength)
        /// The response ended without a final (non-1xx) head.
        static let noFinalResponse = Code(kind: .noFinalResponse)
    }

    let code: Code
    init(_ code: Code) { self.code = code }

    var description: String {
        switch code.kind {
        case .connectionClosed: "the local service closed the connection before the response ended"
        case .closedBeforeResponse: "the local service closed the connection without answering"
        case .requestBodyLength: "the request body was shorter than its Content-Length"
        case .noFinalResponse: "the local service sent no final response head"
        }
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
