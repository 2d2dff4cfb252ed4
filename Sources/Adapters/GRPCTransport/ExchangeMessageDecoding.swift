import HTTPTypes
import Foundation
package import HopGatePorts
package import NIOCore
import SwiftProtobuf

/// What one message on an exchange stream from the client means to the server: the decoding the
/// server applies to every `ExchangeFromClient`, in one place so that it can be fuzzed
/// (`scripts/fuzz`, `Sources/Apps/hopgate-fuzz`) as well as served.
package enum ExchangeMessageDecoding {
    /// One decoded client message.
    package enum Message: Sendable, Hashable {
        /// A part of the HTTP response (head, body chunk or end with trailers).
        case part(ExchangeResponsePart)
        /// A final head that carries the response's first body bytes and maybe its end
        /// (`coalesced-parts`): the parts in order.
        case parts([ExchangeResponsePart])
        /// The client could not answer (its local service failed); the message is its reason.
        case failure(String)
        /// A message with no place in an exchange: an attach after the stream's first message, or
        /// an empty one. The server fails the response and reads on, so the client can finish.
        case unexpected
    }

    /// Decodes an `ExchangeFromClient` from its protobuf bytes (what gRPC hands the service).
    package static func message(serialized bytes: ByteBuffer) throws(TunnelExchangeError) -> Message {
        let decoded: Result<Message, TunnelExchangeError>
        do { decoded = try decode(bytes) } catch {
            throw TunnelExchangeError(.protocolViolation, "an exchange message that is not valid protobuf (\(bytes.readableBytes) bytes)")
        }
        return try decoded.get()
    }

    /// Decodes an `ExchangeFromClient` straight from its protobuf bytes, with protobuf's rules
    /// (unknown fields skipped, the last of a oneof's cases wins, a repeated message merges),
    /// without making SwiftProtobuf structs first: bodies are slices of `bytes`, not copies.
    /// - Throws: bytes that are not protobuf: the stream is broken.
    /// - Returns: the message, or why it is protobuf but not a response part (an invalid header,
    ///   status or order): the exchange fails.
    /// - Parameter cache: the header fields last read off the same stream (``HeaderFieldCache``).
    static func decode(
        _ bytes: ByteBuffer, cache: HeaderFieldCache? = nil
    ) throws(ProtoWire.Malformed) -> Result<Message, TunnelExchangeError> {
        let kind = try ProtoWireReader.oneofCase(of: bytes, cases: 1...5) { field, payloads throws(ProtoWire.Malformed) in
            _ = try decodeKind(field, payloads, cache: nil)
        }
        guard let kind else { return .success(.unexpected) }
        return try decodeKind(kind.field, kind.payloads, cache: cache)
    }

    /// The oneof's case `field`, read over its `payloads`.
    private static func decodeKind(
        _ field: Int, _ payloads: WirePayloads, cache: HeaderFieldCache?
    ) throws(ProtoWire.Malformed) -> Result<Message, TunnelExchangeError> {
        switch field {
        case 2: return try responseHead(payloads, cache: cache)
        case 3:
            return .success(.part(.body(try payloads.lastFieldOne(utf8: false) ?? ByteBuffer())))
        case 4:
            var trailers = WireHeaderFields()
            for payload in payloads { try trailers.append(end: payload) }
            return trailers.result().map { .part(.end($0.isEmpty ? nil : $0)) }
        case 5:
            return .success(.failure(try payloads.lastFieldOne(utf8: true).map { String(buffer: $0) } ?? ""))
        default:  // 1, an attach: checked as protobuf, then refused
            _ = try payloads.lastFieldOne(utf8: true)
            return .success(.unexpected)
        }
    }

    /// A `ResponseHead` (status 1, reason 2, headers 3, body 4, end 5), merged over `payloads`.
    private static func responseHead(
        _ payloads: WirePayloads, cache: HeaderFieldCache?
    ) throws(ProtoWire.Malformed) -> Result<Message, TunnelExchangeError> {
        var status: UInt32 = 0
        var reason = ""
        var headers = WireHeaderFields(cache: cache)
        var body: ByteBuffer?
        var end: WireHeaderFields?
        for payload in payloads {
            try ProtoWireReader.reading(payload) { reader throws(ProtoWire.Malformed) in
                while let field = try reader.nextField() {
                    switch (field.number, field.wireType) {
                    case (1, .varint): status = UInt32(truncatingIfNeeded: try reader.readVarint())
                    case (2, .lengthDelimited): reason = try reader.readString()
                    case (3, .lengthDelimited): try headers.append(header: try reader.readLengthDelimitedMemory())
                    case (4, .lengthDelimited): body = try reader.readLengthDelimited()
                    case (5, .lengthDelimited):
                        if end == nil { end = WireHeaderFields() }
                        try end!.append(end: try reader.readLengthDelimitedMemory())
                    default: try reader.skip(field.wireType, field: field.number)
                    }
                }
            }
        }
        guard (100...999).contains(status) else {
            return .failure(TunnelExchangeError(.protocolViolation, "invalid status \(status)"))
        }
        let fields: HTTPFields
        switch headers.result() {
        case .success(let value): fields = value
        case .failure(let problem): return .failure(problem)
        }
        let response = HTTPResponse(status: .init(code: Int(status), reasonPhrase: reason), headerFields: fields)
        let hasBody = (body?.readableBytes ?? 0) > 0
        guard hasBody || end != nil else { return .success(.part(.head(response))) }
        guard response.status.kind != .informational else {
            return .failure(TunnelExchangeError(.protocolViolation, "an interim (1xx) response head carries a body or an end"))
        }
        // Room for all three at once: a one-element literal grew twice (≈ 900 instructions each).
        var parts: [ExchangeResponsePart] = []
        parts.reserveCapacity(3)
        parts.append(.head(response))
        if hasBody, let body { parts.append(.body(body)) }
        if let end {
            switch end.result() {
            case .success(let trailers): parts.append(.end(trailers.isEmpty ? nil : trailers))
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(.parts(parts))
    }

    /// Decodes a parsed `ExchangeFromClient`; throws for a head or trailers that cannot be rebuilt.
    static func message(_ message: Hopgate_Tunnel_V1_ExchangeFromClient) throws(TunnelExchangeError) -> Message {
        switch message.kind {
        case .head(let head):
            let response = try ProtoConversions.responseHead(head)
            guard !head.body.isEmpty || head.hasEnd else { return .part(.head(response)) }
            guard response.status.kind != .informational else {
                throw TunnelExchangeError(.protocolViolation, "an interim (1xx) response head carries a body or an end")
            }
            var parts: [ExchangeResponsePart] = [.head(response)]
            if !head.body.isEmpty { parts.append(.body(ByteBuffer(bytes: head.body))) }
            if head.hasEnd { parts.append(.end(head.end.trailers.isEmpty ? nil : try ProtoConversions.fields(head.end.trailers))) }
            return .parts(parts)
        case .body(let chunk):
            return .part(.body(ByteBuffer(bytes: chunk.data)))
        case .end(let end):
            return .part(.end(end.trailers.isEmpty ? nil : try ProtoConversions.fields(end.trailers)))
        case .failure(let failure):
            return .failure(failure.message)
        case .attach, nil:
            return .unexpected
        }
    }
}
