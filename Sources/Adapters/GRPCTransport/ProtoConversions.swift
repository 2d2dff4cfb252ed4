import Foundation
import HTTPTypes
import HopGatePorts
import NIOCore
import SwiftProtobuf

/// Conversions between the port's HTTP types and the protocol's messages. Field values travel as
/// bytes (HTTP allows obs-text); a head that cannot be rebuilt is a protocol violation.
enum ProtoConversions {
    static func headers(_ fields: HTTPFields) -> [Hopgate_Tunnel_V1_Header] {
        fields.map { field in
            var header = Hopgate_Tunnel_V1_Header()
            header.name = field.name.rawName
            header.value = field.withUnsafeBytesOfValue { Data($0) }
            return header
        }
    }

    static func fields(_ headers: [Hopgate_Tunnel_V1_Header]) throws(TunnelExchangeError) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for header in headers {
            guard let name = HTTPField.Name(header.name) else {
                throw TunnelExchangeError(.protocolViolation, "invalid header name '\(header.name.prefix(40))'")
            }
            // Bytes, not a String: obs-text (a Latin-1 filename, say) must arrive unchanged.
            fields.append(HTTPField(name: name, value: header.value))
        }
        return fields
    }

    static func requestHead(_ head: ExchangeRequestHead) -> Hopgate_Tunnel_V1_RequestHead {
        var message = Hopgate_Tunnel_V1_RequestHead()
        message.requestID = head.requestID
        message.method = head.request.method.rawValue
        message.scheme = head.request.scheme ?? "https"
        message.authority = head.request.authority ?? ""
        message.path = head.request.path ?? "/"
        message.headers = headers(head.request.headerFields)
        return message
    }

    static func requestHead(_ message: Hopgate_Tunnel_V1_RequestHead) throws(TunnelExchangeError) -> ExchangeRequestHead {
        guard let method = HTTPRequest.Method(message.method) else {
            throw TunnelExchangeError(.protocolViolation, "invalid method '\(message.method.prefix(20))'")
        }
        let request = HTTPRequest(
            method: method, scheme: message.scheme, authority: message.authority, path: message.path,
            headerFields: try fields(message.headers))
        return ExchangeRequestHead(request: request, requestID: message.requestID)
    }

    static func responseHead(_ response: HTTPResponse) -> Hopgate_Tunnel_V1_ResponseHead {
        var message = Hopgate_Tunnel_V1_ResponseHead()
        message.status = UInt32(response.status.code)
        message.reason = response.status.reasonPhrase
        message.headers = headers(response.headerFields)
        return message
    }

    static func responseHead(_ message: Hopgate_Tunnel_V1_ResponseHead) throws(TunnelExchangeError) -> HTTPResponse {
        guard (100...999).contains(message.status) else {
            throw TunnelExchangeError(.protocolViolation, "invalid status \(message.status)")
        }
        return HTTPResponse(status: .init(code: Int(message.status), reasonPhrase: message.reason), headerFields: try fields(message.headers))
    }

    static func chunk(_ buffer: ByteBuffer) -> Hopgate_Tunnel_V1_BodyChunk {
        var chunk = Hopgate_Tunnel_V1_BodyChunk()
        chunk.data = Data(buffer.readableBytesView)
        return chunk
    }

    static func end(_ trailers: HTTPFields?) -> Hopgate_Tunnel_V1_End {
        var end = Hopgate_Tunnel_V1_End()
        end.trailers = trailers.map(headers) ?? []
        return end
    }
}
