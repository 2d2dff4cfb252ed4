import HopGatePorts
import HTTPTypes
import NIOCore
import NIOHTTP1

/// A request head for a pooled connection to a local service, framed and written straight from
/// the tunnel's HTTP types: one pass over the request's fields gathers the lines to send (any
/// `Host` and the hop-by-hop fields left out) and notes its `Content-Length`.
///
/// The bytes are those that ``DirectHTTP1Forwarder/requestHead(_:target:upgrading:)``, the
/// pooled exchange's framing and ``HTTP1RequestEncoder`` made through NIO's `HTTPRequestHead`,
/// byte for byte (`PooledRequestHeadTests`). That way cost a `String` pair and an `HTTPHeaders`
/// entry per field, and a scan of them for each framing field looked up (callgrind:
/// ≈ 9,000 instructions for a small request's head).
///
/// Only for requests the pooled forwarder carries: no upgrade, no `TE: trailers`
/// (``DirectHTTP1Forwarder/isNeeded(for:)``), so neither `Upgrade` nor `TE` is sent.
struct PooledRequestHead {
    /// The request's method, for the response decoder (an answer to `HEAD` has no body) and the
    /// retry rule.
    let method: HTTPMethod
    /// The request's `Content-Length` when it is a non-negative number; nil when it has none or
    /// one that cannot be used (then none is sent, and the body is framed here).
    let declaredLength: Int?
    private let target: String
    private var lines: [(name: String, value: String)]

    init(_ head: ExchangeRequestHead, target: LocalTarget) {
        let request = head.request
        method = HTTPMethod(rawValue: request.method.rawValue)
        self.target = request.path ?? "/"
        var lines: [(name: String, value: String)] = []
        lines.reserveCapacity(request.headerFields.count + 2)
        // First, as RFC 9112 §3.2 asks of a client; any `Host` field among the others is dropped.
        lines.append((name: "Host", value: request.authority ?? "\(target.host):\(target.port)"))
        var firstLength: String?
        var lengthLines = false
        for field in request.headerFields {
            let name = field.name.canonicalName
            switch name.utf8.count {
            case 4 where name == "host": continue
            case 14 where name == "content-length":
                if firstLength == nil { firstLength = field.value }
                lengthLines = true
            default:
                if HopByHopFields.isHopByHop(field.name) { continue }
            }
            lines.append((name: field.name.rawName, value: field.value))
        }
        declaredLength = firstLength.flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
        // An unusable length is not sent: the body is framed here instead.
        if declaredLength == nil, lengthLines { lines.removeAll { Self.isContentLength($0.name) } }
        self.lines = lines
    }

    /// Adds the framing fields for a request with or without a body, as NIO's request encoder
    /// would after the pooled exchange's choice, and tells whether the body goes chunked: a
    /// declared length stands (a `TRACE` loses it: it has no body); without one, a body is
    /// chunked, and a bodiless `POST`, `PUT` or `PATCH` says `Content-Length: 0`.
    mutating func frame(hasBody: Bool) -> Bool {
        if method == .TRACE {
            if declaredLength != nil { lines.removeAll { Self.isContentLength($0.name) } }
            return false
        }
        guard declaredLength == nil else { return false }
        switch method {
        case .POST, .PUT, .PATCH:
            // Spelled as NIO's encoder replaces the exchange's own `Transfer-Encoding`.
            lines.append(hasBody ? (name: "transfer-encoding", value: "chunked") : (name: "Content-Length", value: "0"))
        default:
            if hasBody { lines.append((name: "Transfer-Encoding", value: "chunked")) }
        }
        return hasBody
    }

    /// The head's bytes: request line, field lines, empty line.
    func bytes(allocator: ByteBufferAllocator) -> ByteBuffer {
        HTTP1HeadCursor.head(method.rawValue, target, "HTTP/1.1", fields: lines, allocator: allocator)
    }

    private static func isContentLength(_ name: String) -> Bool {
        name.utf8.count == 14 && name.lowercased() == "content-length"
    }
}

/// A request part as a pooled connection writes it (``PooledConnectionHandler``): the head
/// already in bytes, with its method for the response decoder and whether its body is chunked.
enum PooledRequestPart {
    case head(ByteBuffer, method: HTTPMethod, chunked: Bool)
    case body(IOData)
    case end(HTTPHeaders?)
}
