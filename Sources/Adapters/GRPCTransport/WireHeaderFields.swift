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
    /// The fields read so far, each appended as it is made: gathering them in an array first,
    /// to add them at once, cost a copy out of the array and a release of it per field (each
    /// `HTTPFields` append is the same unspecialized `replaceSubrange` call either way).
    private var fields = HTTPFields()
    /// The first header that could not be made a field.
    private(set) var problem: TunnelExchangeError?
    /// Fields a head usually has at most (the edge's forwarded request carries the public
    /// client's plus five of its own).
    static let usualCount = 16
    /// The fields last read off the same stream, by their bytes; nil to make every field.
    private let cache: HeaderFieldCache?

    init(cache: HeaderFieldCache? = nil) {
        self.cache = cache
    }

    /// Reads one `Header` message (`name` = 1, `value` = 2; the last occurrence of each wins)
    /// from its memory, and appends it.
    mutating func append(header memory: UnsafeRawBufferPointer) throws(ProtoWire.Malformed) {
        // The same bytes as a field made before: valid protobuf and a valid field.
        if problem == nil, let field = cache?.field(for: memory) {
            if fields.isEmpty { fields.reserveCapacity(Self.usualCount) }
            fields.append(field)
            return
        }
        var reader = ProtoWireMemoryReader(memory)
        var name: UnsafeRawBufferPointer?
        var value: UnsafeRawBufferPointer?
        while let field = try reader.nextField() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): name = try reader.readUTF8()
            case (2, .lengthDelimited): value = try reader.readLengthDelimited()
            default: try reader.skip(field.wireType, field: field.number)
            }
        }
        guard problem == nil else { return }
        // Room for a usual head at once, rather than growing 1, 2, 4, 8, 16.
        if fields.isEmpty { fields.reserveCapacity(Self.usualCount) }
        let fieldName: HTTPField.Name
        if let name, let common = CommonFieldNames.name(spelled: name) {
            fieldName = common
        } else {
            let nameText = name.map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard let made = HTTPField.Name(nameText) else {
                problem = TunnelExchangeError(.protocolViolation, "invalid header name '\(nameText.prefix(40))'")
                return
            }
            fieldName = made
        }
        let field: HTTPField
        if let value {
            // ASCII, the usual case, is made a String at once: the field keeps the same String
            // its byte initializer would make, without that initializer's generic UTF-8
            // validation. Anything else goes in as bytes: obs-text (a Latin-1 filename, say)
            // must arrive unchanged.
            field = value.isASCII
                ? HTTPField(name: fieldName, value: String(decoding: value, as: UTF8.self)) : HTTPField(name: fieldName, value: value)
        } else {
            field = HTTPField(name: fieldName, value: "")
        }
        cache?.keep(field, for: memory)
        fields.append(field)
    }

    /// Reads one `End` message (`trailers` = 1) from its memory, and appends its trailers.
    mutating func append(end memory: UnsafeRawBufferPointer) throws(ProtoWire.Malformed) {
        var reader = ProtoWireMemoryReader(memory)
        while let field = try reader.nextField() {
            if field.number == 1, field.wireType == .lengthDelimited {
                try append(header: try reader.readLengthDelimited())
            } else {
                try reader.skip(field.wireType, field: field.number)
            }
        }
    }

    /// Reads one `End` message held in `bytes`, and appends its trailers.
    mutating func append(end bytes: ByteBuffer) throws(ProtoWire.Malformed) {
        try bytes.withProtoWireMemory { memory throws(ProtoWire.Malformed) in try append(end: memory) }
    }

    /// The fields, or the first problem.
    func result() -> Result<HTTPFields, TunnelExchangeError> {
        if let problem { return .failure(problem) }
        return .success(fields)
    }
}
