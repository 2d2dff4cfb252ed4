import HTTPTypes
import HopGatePorts
import NIOCore

/// Builds `HTTPFields` from `Header` messages as they are read off the wire (the `headers` and
/// `trailers` fields of the Exchange messages), without making protobuf structs first.
///
/// A header that is well-formed protobuf but not a valid HTTP field (an invalid name) does not
/// stop the reading: the rest of the message must still be checked as protobuf, and a message
/// that is not protobuf is a different failure (the stream's, not the exchange's). The first such
/// problem is kept in ``problem``, and nothing more is added after it.
struct WireHeaderFields {
    /// The fields read so far, added to an `HTTPFields` once, in ``result()``: each of its
    /// appends is a generic call the compiler cannot specialize (`replaceSubrange`).
    private var fields: [HTTPField] = []
    /// The first header that could not be made a field.
    private(set) var problem: TunnelExchangeError?
    /// Fields a head usually has at most (the edge's forwarded request carries the public
    /// client's plus five of its own).
    static let usualCount = 16

    /// Reads one `Header` message (`name` = 1, `value` = 2; the last occurrence of each wins)
    /// and appends it.
    mutating func append(header bytes: ByteBuffer) throws(ProtoWire.Malformed) {
        var reader = ProtoWireReader(bytes)
        var name: ByteBuffer?
        var value: ByteBuffer?
        while let field = try reader.nextField() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): name = try reader.readUTF8Bytes()
            case (2, .lengthDelimited): value = try reader.readLengthDelimited()
            default: try reader.skip(field.wireType, field: field.number)
            }
        }
        guard problem == nil else { return }
        // Room for a usual head at once, rather than growing 1, 2, 4, 8, 16.
        if fields.isEmpty { fields.reserveCapacity(Self.usualCount) }
        let fieldName: HTTPField.Name
        if let common = name?.withUnsafeReadableBytes(CommonFieldNames.name(spelled:)) {
            fieldName = common
        } else {
            let nameText = name.map { String(buffer: $0) } ?? ""
            guard let made = HTTPField.Name(nameText) else {
                problem = TunnelExchangeError(.protocolViolation, "invalid header name '\(nameText.prefix(40))'")
                return
            }
            fieldName = made
        }
        guard let value else {
            fields.append(HTTPField(name: fieldName, value: ""))
            return
        }
        // ASCII, the usual case, is made a String at once: the field keeps the same String its
        // byte initializer would make, without that initializer's generic UTF-8 validation.
        // Anything else goes in as bytes: obs-text (a Latin-1 filename, say) must arrive unchanged.
        if value.isASCII {
            fields.append(HTTPField(name: fieldName, value: String(buffer: value)))
        } else {
            fields.append(HTTPField(name: fieldName, value: value.readableBytesView))
        }
    }

    /// Reads one `End` message (`trailers` = 1) and appends its trailers.
    mutating func append(end bytes: ByteBuffer) throws(ProtoWire.Malformed) {
        var reader = ProtoWireReader(bytes)
        while let field = try reader.nextField() {
            if field.number == 1, field.wireType == .lengthDelimited {
                try append(header: try reader.readLengthDelimited())
            } else {
                try reader.skip(field.wireType, field: field.number)
            }
        }
    }

    /// The fields, or the first problem.
    func result() -> Result<HTTPFields, TunnelExchangeError> {
        if let problem { return .failure(problem) }
        return .success(HTTPFields(presized: fields))
    }
}

extension ByteBuffer {
    /// Whether every readable byte is ASCII.
    var isASCII: Bool {
        withUnsafeReadableBytes { bytes in bytes.allSatisfy { $0 < 0x80 } }
    }
}

extension ProtoWireReader {
    /// A string field's bytes, checked to be UTF-8 (protobuf strings are), not made a String.
    mutating func readUTF8Bytes() throws(ProtoWire.Malformed) -> ByteBuffer {
        let bytes = try readLengthDelimited()
        // ASCII, the usual case, is UTF-8 without a decode.
        let valid = bytes.isASCII || bytes.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) != nil }
        guard valid else { throw ProtoWire.Malformed(reason: "a string field that is not UTF-8") }
        return bytes
    }
}
