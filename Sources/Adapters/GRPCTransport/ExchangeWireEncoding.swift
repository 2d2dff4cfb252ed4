import Foundation
import NIOCore
import SwiftProtobuf

/// An Exchange message that writes its own protobuf bytes straight into a `ByteBuffer`: the
/// same bytes as SwiftProtobuf's `serializedBytes()` (fields in number order, proto3 defaults
/// left out; `ExchangeWireEncodingTests` compares the two), without its size visitor passes, an
/// intermediate `[UInt8]` and the copy out of it.
///
/// Unknown fields are not written: these messages are built by HopGate, never relayed.
protocol ExchangeWireMessage: SwiftProtobuf.Message {
    /// The serialized size in bytes.
    var wireSize: Int { get }
    /// Appends the serialized message (`wireSize` bytes) to `buffer`.
    func writeWire(to buffer: inout ByteBuffer)
}

extension Hopgate_Tunnel_V1_ExchangeFromServer: ExchangeWireMessage {
    var wireSize: Int {
        switch kind {
        case .head(let head)?: ProtoWire.lengthDelimitedSize(head.wireSize)
        case .body(let chunk)?: ProtoWire.lengthDelimitedSize(chunk.wireSize)
        case .end(let end)?: ProtoWire.lengthDelimitedSize(end.wireSize)
        case .cancel(let cancel)?: ProtoWire.lengthDelimitedSize(cancel.wireSize)
        case nil: 0
        }
    }

    func writeWire(to buffer: inout ByteBuffer) {
        switch kind {
        case .head(let head)?:
            buffer.writeProtoLengthPrefix(1, count: head.wireSize)
            head.writeWire(to: &buffer)
        case .body(let chunk)?:
            buffer.writeProtoLengthPrefix(2, count: chunk.wireSize)
            chunk.writeWire(to: &buffer)
        case .end(let end)?:
            buffer.writeProtoLengthPrefix(3, count: end.wireSize)
            end.writeWire(to: &buffer)
        case .cancel(let cancel)?:
            buffer.writeProtoLengthPrefix(4, count: cancel.wireSize)
            cancel.writeWire(to: &buffer)
        case nil:
            break
        }
    }
}

extension Hopgate_Tunnel_V1_ExchangeFromClient: ExchangeWireMessage {
    var wireSize: Int {
        switch kind {
        case .attach(let attach)?: ProtoWire.lengthDelimitedSize(attach.wireSize)
        case .head(let head)?: ProtoWire.lengthDelimitedSize(head.wireSize)
        case .body(let chunk)?: ProtoWire.lengthDelimitedSize(chunk.wireSize)
        case .end(let end)?: ProtoWire.lengthDelimitedSize(end.wireSize)
        case .failure(let failure)?: ProtoWire.lengthDelimitedSize(failure.wireSize)
        case nil: 0
        }
    }

    func writeWire(to buffer: inout ByteBuffer) {
        switch kind {
        case .attach(let attach)?:
            buffer.writeProtoLengthPrefix(1, count: attach.wireSize)
            attach.writeWire(to: &buffer)
        case .head(let head)?:
            buffer.writeProtoLengthPrefix(2, count: head.wireSize)
            head.writeWire(to: &buffer)
        case .body(let chunk)?:
            buffer.writeProtoLengthPrefix(3, count: chunk.wireSize)
            chunk.writeWire(to: &buffer)
        case .end(let end)?:
            buffer.writeProtoLengthPrefix(4, count: end.wireSize)
            end.writeWire(to: &buffer)
        case .failure(let failure)?:
            buffer.writeProtoLengthPrefix(5, count: failure.wireSize)
            failure.writeWire(to: &buffer)
        case nil:
            break
        }
    }
}

extension Hopgate_Tunnel_V1_RequestHead {
    var wireSize: Int {
        var size = ProtoWireField.stringSize(requestID) + ProtoWireField.stringSize(method) + ProtoWireField.stringSize(scheme)
            + ProtoWireField.stringSize(authority) + ProtoWireField.stringSize(path) + ProtoWireField.headersSize(headers)
        if hasEnd { size += ProtoWire.lengthDelimitedSize(end.wireSize) }
        return size
    }

    func writeWire(to buffer: inout ByteBuffer) {
        ProtoWireField.writeString(requestID, field: 1, to: &buffer)
        ProtoWireField.writeString(method, field: 2, to: &buffer)
        ProtoWireField.writeString(scheme, field: 3, to: &buffer)
        ProtoWireField.writeString(authority, field: 4, to: &buffer)
        ProtoWireField.writeString(path, field: 5, to: &buffer)
        ProtoWireField.writeHeaders(headers, field: 6, to: &buffer)
        if hasEnd {
            buffer.writeProtoLengthPrefix(7, count: end.wireSize)
            end.writeWire(to: &buffer)
        }
    }
}

extension Hopgate_Tunnel_V1_ResponseHead {
    var wireSize: Int {
        var size = status == 0 ? 0 : 1 + ProtoWire.varintSize(UInt64(status))
        size += ProtoWireField.stringSize(reason) + ProtoWireField.headersSize(headers) + ProtoWireField.bytesSize(body)
        if hasEnd { size += ProtoWire.lengthDelimitedSize(end.wireSize) }
        return size
    }

    func writeWire(to buffer: inout ByteBuffer) {
        if status != 0 {
            buffer.writeProtoTag(1, .varint)
            buffer.writeProtoVarint(UInt64(status))
        }
        ProtoWireField.writeString(reason, field: 2, to: &buffer)
        ProtoWireField.writeHeaders(headers, field: 3, to: &buffer)
        ProtoWireField.writeBytes(body, field: 4, to: &buffer)
        if hasEnd {
            buffer.writeProtoLengthPrefix(5, count: end.wireSize)
            end.writeWire(to: &buffer)
        }
    }
}

extension Hopgate_Tunnel_V1_Header {
    var wireSize: Int { ProtoWireField.stringSize(name) + ProtoWireField.bytesSize(value) }

    func writeWire(to buffer: inout ByteBuffer) {
        ProtoWireField.writeString(name, field: 1, to: &buffer)
        ProtoWireField.writeBytes(value, field: 2, to: &buffer)
    }
}

extension Hopgate_Tunnel_V1_End {
    var wireSize: Int { ProtoWireField.headersSize(trailers) }

    func writeWire(to buffer: inout ByteBuffer) { ProtoWireField.writeHeaders(trailers, field: 1, to: &buffer) }
}

extension Hopgate_Tunnel_V1_BodyChunk {
    var wireSize: Int { ProtoWireField.bytesSize(data) }

    func writeWire(to buffer: inout ByteBuffer) { ProtoWireField.writeBytes(data, field: 1, to: &buffer) }
}

extension Hopgate_Tunnel_V1_Cancel {
    var wireSize: Int { ProtoWireField.stringSize(reason) }

    func writeWire(to buffer: inout ByteBuffer) { ProtoWireField.writeString(reason, field: 1, to: &buffer) }
}

extension Hopgate_Tunnel_V1_Failure {
    var wireSize: Int { ProtoWireField.stringSize(message) }

    func writeWire(to buffer: inout ByteBuffer) { ProtoWireField.writeString(message, field: 1, to: &buffer) }
}

extension Hopgate_Tunnel_V1_Attach {
    var wireSize: Int { ProtoWireField.stringSize(tunnelID) + ProtoWireField.bytesSize(exchangeToken) }

    func writeWire(to buffer: inout ByteBuffer) {
        ProtoWireField.writeString(tunnelID, field: 1, to: &buffer)
        ProtoWireField.writeBytes(exchangeToken, field: 2, to: &buffer)
    }
}

/// Sizes and writes of the scalar and repeated fields above; proto3 leaves empty values out.
private enum ProtoWireField {
    @inline(__always)
    static func stringSize(_ value: String) -> Int { value.isEmpty ? 0 : ProtoWire.lengthDelimitedSize(value.utf8.count) }

    @inline(__always)
    static func bytesSize(_ value: Data) -> Int { value.isEmpty ? 0 : ProtoWire.lengthDelimitedSize(value.count) }

    static func headersSize(_ headers: [Hopgate_Tunnel_V1_Header]) -> Int {
        var size = 0
        for header in headers { size += ProtoWire.lengthDelimitedSize(header.wireSize) }
        return size
    }

    @inline(__always)
    static func writeString(_ value: String, field: Int, to buffer: inout ByteBuffer) {
        guard !value.isEmpty else { return }
        buffer.writeProtoLengthPrefix(field, count: value.utf8.count)
        buffer.writeString(value)
    }

    @inline(__always)
    static func writeBytes(_ value: Data, field: Int, to buffer: inout ByteBuffer) {
        guard !value.isEmpty else { return }
        buffer.writeProtoLengthPrefix(field, count: value.count)
        buffer.writeBytes(value)
    }

    static func writeHeaders(_ headers: [Hopgate_Tunnel_V1_Header], field: Int, to buffer: inout ByteBuffer) {
        for header in headers {
            buffer.writeProtoLengthPrefix(field, count: header.wireSize)
            header.writeWire(to: &buffer)
        }
    }
}
