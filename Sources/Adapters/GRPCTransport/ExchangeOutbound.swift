import Foundation
import HTTPTypes
import HopGatePorts
import NIOCore
import SwiftProtobuf

/// An Exchange message the edge sends, written straight from the port's types: the same bytes as
/// the `ExchangeFromServer` it stands for (``protobuf``; `ExchangeWireTests` compares the two),
/// without building that message first — a `Header` with a `Data` per field, and a body copied
/// into a `Data` and then again into the frame.
enum ServerExchangeOutbound: ExchangeWireMessage, Sendable {
    /// A request's head; with `end` (trailers, or nil for none) when it carries the request's
    /// End too (`request-end-in-head`).
    case head(ExchangeRequestHead, end: HTTPFields?? = nil)
    case body(ByteBuffer)
    case end(HTTPFields?)
    case cancel(reason: String)

    /// The generated message, for a version 1 stream (served by grpc-swift) and the tests.
    var protobuf: Hopgate_Tunnel_V1_ExchangeFromServer {
        var message = Hopgate_Tunnel_V1_ExchangeFromServer()
        switch self {
        case .head(let head, let end):
            var requestHead = ProtoConversions.requestHead(head)
            if case .some(let trailers) = end { requestHead.end = ProtoConversions.end(trailers) }
            message.head = requestHead
        case .body(let buffer): message.body = ProtoConversions.chunk(buffer)
        case .end(let trailers): message.end = ProtoConversions.end(trailers)
        case .cancel(let reason): message.cancel = .with { $0.reason = reason }
        }
        return message
    }

    var wireField: ExchangeWireField {
        switch self {
        case .head(let head, let end): ExchangeWireField(number: 1, size: Self.headSize(head, end: end))
        case .body(let buffer): ExchangeWireField(number: 2, size: OutboundField.bytesSize(buffer.readableBytes))
        case .end(let trailers): ExchangeWireField(number: 3, size: OutboundField.fieldsSize(trailers))
        case .cancel(let reason): ExchangeWireField(number: 4, size: OutboundField.stringSize(reason))
        }
    }

    func writeContent(size: Int, to buffer: inout ByteBuffer) {
        switch self {
        case .head(let head, let end):
            // In one write into the buffer (see ``ProtoWireCursor``): a write of its own for each
            // string and field cost ≈ 250 instructions in `ByteBuffer`'s checks, callgrind.
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { memory in
                var cursor = ProtoWireCursor(memory)
                cursor.writeString(head.requestID, field: 1)
                cursor.writeString(head.request.method.rawValue, field: 2)
                cursor.writeString(head.request.scheme ?? "https", field: 3)
                cursor.writeString(head.request.authority ?? "", field: 4)
                cursor.writeString(head.request.path ?? "/", field: 5)
                cursor.writeHeaders(head.request.headerFields, field: 6)
                if case .some(let trailers) = end { cursor.writeEnd(trailers, field: 7) }
                assert(cursor.count == size, "a request head's size was \(size), \(cursor.count) bytes written")
                return cursor.count
            }
        case .body(let body):
            OutboundField.writeBytes(body, field: 1, to: &buffer)
        case .end(let trailers):
            if let trailers { OutboundField.writeFields(trailers, size: size, to: &buffer) }
        case .cancel(let reason):
            OutboundField.writeString(reason, field: 1, to: &buffer)
        }
    }

    private static func headSize(_ head: ExchangeRequestHead, end: HTTPFields??) -> Int {
        var size = OutboundField.stringSize(head.requestID) + OutboundField.stringSize(head.request.method.rawValue)
            + OutboundField.stringSize(head.request.scheme ?? "https") + OutboundField.stringSize(head.request.authority ?? "")
            + OutboundField.stringSize(head.request.path ?? "/") + OutboundField.fieldsSize(head.request.headerFields)
        if case .some(let trailers) = end { size += ProtoWire.lengthDelimitedSize(OutboundField.fieldsSize(trailers)) }
        return size
    }
}

/// An Exchange message the client sends, written straight from the port's types: the same bytes
/// as the `ExchangeFromClient` it stands for (``protobuf``).
enum ClientExchangeOutbound: ExchangeWireMessage, Sendable {
    case attach(tunnelID: String, token: Data)
    /// A response's head; with the whole `body` and `end` (trailers, or nil for none) when the
    /// response is small enough to go in one message (`coalesced-parts`).
    case head(HTTPResponse, body: ByteBuffer? = nil, end: HTTPFields?? = nil)
    case body(ByteBuffer)
    case end(HTTPFields?)
    case failure(message: String)

    /// Whether the message carries the response's end.
    var endsResponse: Bool {
        switch self {
        case .end: true
        case .head(_, _, let end): end != nil
        default: false
        }
    }

    /// The generated message, for a version 1 stream (served by grpc-swift) and the tests.
    var protobuf: Hopgate_Tunnel_V1_ExchangeFromClient {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        switch self {
        case .attach(let tunnelID, let token):
            message.attach = .with {
                $0.tunnelID = tunnelID
                $0.exchangeToken = token
            }
        case .head(let response, let body, let end):
            var responseHead = ProtoConversions.responseHead(response)
            if let body, body.readableBytes > 0 { responseHead.body = ProtoConversions.chunk(body).data }
            if case .some(let trailers) = end { responseHead.end = ProtoConversions.end(trailers) }
            message.head = responseHead
        case .body(let buffer): message.body = ProtoConversions.chunk(buffer)
        case .end(let trailers): message.end = ProtoConversions.end(trailers)
        case .failure(let text): message.failure = .with { $0.message = text }
        }
        return message
    }

    var wireField: ExchangeWireField {
        switch self {
        case .attach(let tunnelID, let token):
            ExchangeWireField(number: 1, size: OutboundField.stringSize(tunnelID) + OutboundField.bytesSize(token.count))
        case .head(let response, let body, let end): ExchangeWireField(number: 2, size: Self.headSize(response, body: body, end: end))
        case .body(let buffer): ExchangeWireField(number: 3, size: OutboundField.bytesSize(buffer.readableBytes))
        case .end(let trailers): ExchangeWireField(number: 4, size: OutboundField.fieldsSize(trailers))
        case .failure(let text): ExchangeWireField(number: 5, size: OutboundField.stringSize(text))
        }
    }

    func writeContent(size: Int, to buffer: inout ByteBuffer) {
        switch self {
        case .attach(let tunnelID, let token):
            OutboundField.writeString(tunnelID, field: 1, to: &buffer)
            if !token.isEmpty {
                buffer.writeProtoLengthPrefix(2, count: token.count)
                buffer.writeBytes(token)
            }
        case .head(let response, let body, let end):
            // Read once: `HTTPResponse.status` parses the `:status` field on every read.
            let status = response.status
            // In one write into the buffer, as the edge's request head.
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { memory in
                var cursor = ProtoWireCursor(memory)
                if status.code != 0 {
                    cursor.writeVarint(UInt64(1 << 3 | ProtoWire.WireType.varint.rawValue))
                    cursor.writeVarint(UInt64(status.code))
                }
                cursor.writeString(status.reasonPhrase, field: 2)
                cursor.writeHeaders(response.headerFields, field: 3)
                if let body, body.readableBytes > 0 {
                    cursor.writeLengthPrefix(4, length: body.readableBytes)
                    body.withUnsafeReadableBytes { cursor.writeBytes($0) }
                }
                if case .some(let trailers) = end { cursor.writeEnd(trailers, field: 5) }
                assert(cursor.count == size, "a response head's size was \(size), \(cursor.count) bytes written")
                return cursor.count
            }
        case .body(let body):
            OutboundField.writeBytes(body, field: 1, to: &buffer)
        case .end(let trailers):
            if let trailers { OutboundField.writeFields(trailers, size: size, to: &buffer) }
        case .failure(let text):
            OutboundField.writeString(text, field: 1, to: &buffer)
        }
    }

    private static func headSize(_ response: HTTPResponse, body: ByteBuffer?, end: HTTPFields??) -> Int {
        let status = response.status
        var size = status.code == 0 ? 0 : 1 + ProtoWire.varintSize(UInt64(status.code))
        size += OutboundField.stringSize(status.reasonPhrase) + OutboundField.fieldsSize(response.headerFields)
        size += OutboundField.bytesSize(body?.readableBytes ?? 0)
        if case .some(let trailers) = end { size += ProtoWire.lengthDelimitedSize(OutboundField.fieldsSize(trailers)) }
        return size
    }
}

/// Sizes and writes of the fields above, in protobuf's proto3 encoding: empty strings and bytes
/// are left out, a header is a `Header` message (name, then the value's bytes), an End an `End`
/// message of trailers.
private enum OutboundField {
    @inline(__always)
    static func stringSize(_ value: String) -> Int { value.isEmpty ? 0 : ProtoWire.lengthDelimitedSize(value.utf8.count) }

    @inline(__always)
    static func bytesSize(_ count: Int) -> Int { count == 0 ? 0 : ProtoWire.lengthDelimitedSize(count) }

    @inline(__always)
    static func writeString(_ value: String, field: Int, to buffer: inout ByteBuffer) {
        guard !value.isEmpty else { return }
        buffer.writeProtoLengthPrefix(field, count: value.utf8.count)
        buffer.writeString(value)
    }

    @inline(__always)
    static func writeBytes(_ value: ByteBuffer, field: Int, to buffer: inout ByteBuffer) {
        guard value.readableBytes > 0 else { return }
        buffer.writeProtoLengthPrefix(field, count: value.readableBytes)
        buffer.writeImmutableBuffer(value)
    }

    /// A `Header` message's size.
    @inline(__always)
    static func headerSize(_ field: HTTPField) -> Int {
        stringSize(field.name.rawName) + bytesSize(field.withUnsafeBytesOfValue { $0.count })
    }

    /// The size of `fields` as repeated `Header`s.
    static func fieldsSize(_ fields: HTTPFields?) -> Int {
        guard let fields else { return 0 }
        var size = 0
        for field in fields { size += ProtoWire.lengthDelimitedSize(headerSize(field)) }
        return size
    }

    /// `fields`, whose size as repeated `Header`s is `size`, as field 1 (an `End`'s trailers),
    /// written in one call into the buffer (see ``ProtoWireCursor``).
    static func writeFields(_ fields: HTTPFields, size: Int, to buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { memory in
            var cursor = ProtoWireCursor(memory)
            cursor.writeHeaders(fields, field: 1)
            return cursor.count
        }
    }
}

fileprivate extension ProtoWireCursor {
    /// A string field; nothing for an empty one (proto3).
    @inline(__always)
    mutating func writeString(_ value: String, field: Int) {
        guard !value.isEmpty else { return }
        var value = value
        value.withUTF8 { bytes in
            writeLengthPrefix(field, length: bytes.count)
            writeBytes(UnsafeRawBufferPointer(bytes))
        }
    }

    /// Each of `fields` as a `Header` message (name, then the value's bytes) in field `number`.
    mutating func writeHeaders(_ fields: HTTPFields, field number: Int) {
        for field in fields {
            var name = field.name.rawName
            name.withUTF8 { name in
                field.withUnsafeBytesOfValue { value in
                    writeLengthPrefix(
                        number, length: OutboundField.bytesSize(name.count) + OutboundField.bytesSize(value.count))
                    if !name.isEmpty {
                        writeLengthPrefix(1, length: name.count)
                        writeBytes(UnsafeRawBufferPointer(name))
                    }
                    if !value.isEmpty {
                        writeLengthPrefix(2, length: value.count)
                        writeBytes(UnsafeRawBufferPointer(value))
                    }
                }
            }
        }
    }

    /// An `End` message of `trailers` (none for nil) in field `number`.
    mutating func writeEnd(_ trailers: HTTPFields?, field number: Int) {
        writeLengthPrefix(number, length: OutboundField.fieldsSize(trailers))
        if let trailers { writeHeaders(trailers, field: 1) }
    }
}
