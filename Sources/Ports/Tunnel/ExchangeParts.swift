public import HTTPTypes
public import NIOCore

/// The head of one proxied HTTP exchange, as the edge hands it to a tunnel: method, scheme,
/// authority, path (origin form, with query) and the request's end-to-end header fields
/// (hop-by-hop fields already removed, `X-Forwarded-*` already set).
public struct ExchangeRequestHead: Sendable, Hashable {
    public var request: HTTPRequest
    /// Correlates the edge's and the client's log lines (`request_id`, `X-Request-Id`).
    public var requestID: String
    /// The request is known to have no body: its End follows the head at once, so a transport
    /// may hold the head and send both together (one write and one flush instead of two). Only
    /// a hint: the End still comes as a request part.
    public var bodyless: Bool

    public init(request: HTTPRequest, requestID: String, bodyless: Bool = false) {
        self.request = request
        self.requestID = requestID
        self.bodyless = bodyless
    }
}

/// What follows a request head, from the edge to the client: body chunks (after a `101`
/// upgrade: the raw bytes from the public peer), then one `end` with optional trailers.
public enum ExchangeRequestPart: Sendable, Hashable {
    case body(ByteBuffer)
    case end(HTTPFields?)
}

/// What a client sends back: exactly one final `head` (1xx informational heads such as
/// `103 Early Hints` may come first; a `101` starts a bidirectional byte stream), body chunks,
/// then one `end` with optional trailers.
public enum ExchangeResponsePart: Sendable, Hashable {
    case head(HTTPResponse)
    case body(ByteBuffer)
    case end(HTTPFields?)
}
