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
        let message: Hopgate_Tunnel_V1_ExchangeFromClient
        do {
            message = try Hopgate_Tunnel_V1_ExchangeFromClient(serializedBytes: Array(bytes.readableBytesView))
        } catch {
            throw TunnelExchangeError(.protocolViolation, "an exchange message that is not valid protobuf (\(bytes.readableBytes) bytes)")
        }
        return try Self.message(message)
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
