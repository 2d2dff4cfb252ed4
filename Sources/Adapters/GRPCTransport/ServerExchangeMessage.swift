import HTTPTypes
import HopGatePorts
import NIOCore

/// One `ExchangeFromServer` as the client's Exchange stream handler takes it, decoded straight
/// from its protobuf bytes (``decode(_:)``) without SwiftProtobuf structs: a body chunk is a
/// slice of the message's bytes, not a copy.
///
/// A part that is protobuf but not HTTP (an invalid method or header) is carried as a failure
/// and only acted on if the handler would have used the part.
enum ServerExchangeMessage {
    /// A request head: the request, and `end` when the head carries the request's end
    /// (`request-end-in-head`): `.some(nil)` for an end without trailers.
    case head(Result<(request: ExchangeRequestHead, end: HTTPFields??), TunnelExchangeError>)
    /// A chunk of the request body.
    case body(ByteBuffer)
    /// The request's end, with its trailers.
    case end(Result<HTTPFields?, TunnelExchangeError>)
    /// The server cancels the exchange, or retires the idle stream.
    case cancel
    /// No kind this client knows: ignored.
    case none

    /// Decodes `ExchangeFromServer` (head 1, body 2, end 3, cancel 4) with protobuf's rules:
    /// unknown fields are skipped, the last of the oneof's cases wins, a case seen more than once
    /// merges.
    /// - Throws: bytes that are not protobuf.
    /// - Parameter cache: the header fields last read off the same stream (``HeaderFieldCache``).
    static func decode(_ bytes: ByteBuffer, cache: HeaderFieldCache? = nil) throws(ProtoWire.Malformed) -> ServerExchangeMessage {
        let kind = try ProtoWireReader.oneofCase(of: bytes, cases: 1...4) { field, payloads throws(ProtoWire.Malformed) in
            _ = try decodeKind(field, payloads, cache: nil)
        }
        guard let kind else { return .none }
        return try decodeKind(kind.field, kind.payloads, cache: cache)
    }

    /// The oneof's case `field`, read over its `payloads`.
    private static func decodeKind(
        _ field: Int, _ payloads: WirePayloads, cache: HeaderFieldCache?
    ) throws(ProtoWire.Malformed) -> ServerExchangeMessage {
        switch field {
        case 1:
            return .head(try requestHead(payloads, cache: cache))
        case 2:
            return .body(try payloads.lastFieldOne(utf8: false) ?? ByteBuffer())
        case 3:
            var trailers = WireHeaderFields()
            for payload in payloads { try trailers.append(end: payload) }
            return .end(trailers.result().map { $0.isEmpty ? nil : $0 })
        default:
            _ = try payloads.lastFieldOne(utf8: true)
            return .cancel
        }
    }

    /// A `RequestHead` (request_id 1, method 2, scheme 3, authority 4, path 5, headers 6, end 7),
    /// merged over `payloads`.
    private static func requestHead(
        _ payloads: WirePayloads, cache: HeaderFieldCache?
    ) throws(ProtoWire.Malformed) -> Result<(request: ExchangeRequestHead, end: HTTPFields??), TunnelExchangeError> {
        var requestID = ""
        var method = ""
        var scheme = ""
        var authority = ""
        var path = ""
        var headers = WireHeaderFields(cache: cache)
        var end: WireHeaderFields?
        for payload in payloads {
            try ProtoWireReader.reading(payload) { reader throws(ProtoWire.Malformed) in
                while let field = try reader.nextField() {
                    switch (field.number, field.wireType) {
                    case (1, .lengthDelimited): requestID = try reader.readString()
                    case (2, .lengthDelimited): method = try reader.readString()
                    case (3, .lengthDelimited): scheme = try reader.readString()
                    case (4, .lengthDelimited): authority = try reader.readString()
                    case (5, .lengthDelimited): path = try reader.readString()
                    case (6, .lengthDelimited): try headers.append(header: try reader.readLengthDelimitedMemory())
                    case (7, .lengthDelimited):
                        if end == nil { end = WireHeaderFields() }
                        try end!.append(end: try reader.readLengthDelimitedMemory())
                    default: try reader.skip(field.wireType, field: field.number)
                    }
                }
            }
        }
        guard let requestMethod = HTTPRequest.Method(method) else {
            return .failure(TunnelExchangeError(.protocolViolation, "invalid method '\(method.prefix(20))'"))
        }
        let fields: HTTPFields
        switch headers.result() {
        case .success(let value): fields = value
        case .failure(let problem): return .failure(problem)
        }
        let request = HTTPRequest(method: requestMethod, scheme: scheme, authority: authority, path: path, headerFields: fields)
        let head = ExchangeRequestHead(request: request, requestID: requestID)
        guard let end else { return .success((head, nil)) }
        switch end.result() {
        case .success(let trailers): return .success((head, .some(trailers.isEmpty ? nil : trailers)))
        case .failure(let problem): return .failure(problem)
        }
    }
}
