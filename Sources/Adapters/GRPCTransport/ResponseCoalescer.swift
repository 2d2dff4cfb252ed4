import HTTPTypes
import HopGatePorts
import NIOCore

/// Gathers a small response into one Exchange message (the `coalesced-parts` capability): a
/// final head whose body is bounded and small — a `Content-Length` of at most
/// ``maximumBodyBytes``, a 204 or 304, or the answer to a HEAD — is held until its end and sent
/// with its body and end, so one message does the work of three. Anything else goes out part by
/// part as it comes, as without the capability.
///
/// Holding such a head costs no latency that matters: the body it waits for is bounded, comes
/// from a service on the client's own network, and is useless to the public client without it.
struct ResponseCoalescer {
    /// The largest body sent inside its head.
    static let maximumBodyBytes = 64 << 10

    private let enabled: Bool
    private let answersHEAD: Bool
    private var heldHead: HTTPResponse?
    private var heldBody: ByteBuffer?

    init(enabled: Bool, requestMethod: HTTPRequest.Method) {
        self.enabled = enabled
        self.answersHEAD = requestMethod == .head
    }

    /// The messages to send for `part` now: none while a small response is being gathered.
    mutating func messages(for part: ExchangeResponsePart) -> [ClientExchangeOutbound] {
        switch part {
        case .head(let response) where enabled && heldHead == nil && isSmallAndBounded(response):
            heldHead = response
            return []
        case .body(let buffer) where heldHead != nil:
            if (heldBody?.readableBytes ?? 0) + buffer.readableBytes <= Self.maximumBodyBytes {
                if heldBody == nil { heldBody = buffer } else { heldBody!.writeImmutableBuffer(buffer) }
                return []
            }
            return flush() + [Self.message(for: part)]  // bigger than announced: stream the rest
        case .end(let trailers) where heldHead != nil:
            defer { heldHead = nil; heldBody = nil }
            return [.head(heldHead!, body: heldBody, end: .some(trailers))]
        default:
            return flush() + [Self.message(for: part)]
        }
    }

    /// What is still held (the handler stopped before the response's end), as a head with the
    /// body gathered so far.
    mutating func flush() -> [ClientExchangeOutbound] {
        guard let head = heldHead else { return [] }
        defer { heldHead = nil; heldBody = nil }
        return [.head(head, body: heldBody)]
    }

    private func isSmallAndBounded(_ response: HTTPResponse) -> Bool {
        let status = response.status  // parsed from the `:status` field on every read
        guard status.kind != .informational else { return false }
        if answersHEAD || status == .noContent || status == .notModified { return true }
        // One `Content-Length` field, read without joining the values of all of them (as the
        // fields' subscript does): two of them, even equal, make the body unbounded here.
        var length: Int?
        for field in response.headerFields where field.name == .contentLength {
            guard length == nil, let value = Int(field.value) else { return false }
            length = value
        }
        guard let length else { return false }
        return length >= 0 && length <= Self.maximumBodyBytes
    }

    /// One part as its own message.
    static func message(for part: ExchangeResponsePart) -> ClientExchangeOutbound {
        switch part {
        case .head(let response): .head(response)
        case .body(let buffer): .body(buffer)
        case .end(let trailers): .end(trailers)
        }
    }
}
