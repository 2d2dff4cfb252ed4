import NIOCore

/// Reads the fields of one protobuf message from memory, in order: a message's bytes as a
/// `ByteBuffer` lends them (``ProtoWireReader/reading(_:_:)``), or a nested message's bytes
/// inside them.
///
/// Reading from the memory at once, instead of byte by byte through the buffer, is measured:
/// every `ByteBuffer` read was a call with its own bounds and exclusivity checks — five per
/// header field, ≈ 2,100 instructions per field read in all (callgrind).
struct ProtoWireMemoryReader {
    private let memory: UnsafeRawBufferPointer
    /// Where the next read starts, from the start of `memory`.
    private(set) var offset = 0
    /// How deep in groups a skipped field may nest (SwiftProtobuf's default recursion limit).
    private static let groupDepthLimit = 100

    /// Reads `memory`, which must stay valid while this reader is used.
    init(_ memory: UnsafeRawBufferPointer) { self.memory = memory }

    /// The next field's number and wire type, or nil at the message's end.
    mutating func nextField() throws(ProtoWire.Malformed) -> (number: Int, wireType: ProtoWire.WireType)? {
        guard offset < memory.count else { return nil }
        let field = try readTag()
        guard field.wireType != .endGroup else { throw ProtoWire.Malformed(reason: "a group end outside a group") }
        return field
    }

    /// A field's tag: its number (at least 1) and a known wire type.
    private mutating func readTag() throws(ProtoWire.Malformed) -> (number: Int, wireType: ProtoWire.WireType) {
        let tag = try readVarint()
        guard tag <= UInt64(UInt32.max), let wireType = ProtoWire.WireType(rawValue: UInt8(tag & 7)), tag >> 3 > 0 else {
            throw ProtoWire.Malformed(reason: "an invalid field tag")
        }
        return (Int(tag >> 3), wireType)
    }

    /// A varint value.
    mutating func readVarint() throws(ProtoWire.Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < memory.count else { throw ProtoWire.Malformed(reason: "a truncated varint") }
            let byte = memory[offset]
            offset += 1
            guard shift <= 63 else { throw ProtoWire.Malformed(reason: "a varint longer than ten bytes") }
            value |= UInt64(byte & 0x7f) &<< shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Where a length-delimited value lies, as offsets into the memory read.
    mutating func readLengthDelimitedRange() throws(ProtoWire.Malformed) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(memory.count - offset) else {
            throw ProtoWire.Malformed(reason: "a truncated length-delimited field")
        }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    /// A length-delimited value: its memory, valid as long as the memory read is.
    mutating func readLengthDelimited() throws(ProtoWire.Malformed) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: memory[try readLengthDelimitedRange()])
    }

    /// Where a string field's value lies, checked to be UTF-8 (protobuf strings are).
    mutating func readUTF8Range() throws(ProtoWire.Malformed) -> Range<Int> {
        let range = try readLengthDelimitedRange()
        let bytes = UnsafeRawBufferPointer(rebasing: memory[range])
        // ASCII, the usual case, is UTF-8 without a decode.
        guard bytes.isASCII || String(validating: bytes, as: UTF8.self) != nil else {
            throw ProtoWire.Malformed(reason: "a string field that is not UTF-8")
        }
        return range
    }

    /// A string field's memory, checked to be UTF-8.
    mutating func readUTF8() throws(ProtoWire.Malformed) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: memory[try readUTF8Range()])
    }

    /// Skips a field's value of `wireType` (a known field with an unexpected wire type is
    /// skipped too, as SwiftProtobuf does: it keeps it as an unknown field).
    mutating func skip(_ wireType: ProtoWire.WireType, field: Int) throws(ProtoWire.Malformed) {
        try skip(wireType, field: field, depth: 0)
    }

    private mutating func skip(_ wireType: ProtoWire.WireType, field: Int, depth: Int) throws(ProtoWire.Malformed) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try skipBytes(8)
        case .fixed32: try skipBytes(4)
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        case .endGroup: throw ProtoWire.Malformed(reason: "a group end outside a group")
        case .startGroup:
            guard depth < Self.groupDepthLimit else { throw ProtoWire.Malformed(reason: "groups nested too deep") }
            while true {
                guard offset < memory.count else { throw ProtoWire.Malformed(reason: "a truncated group") }
                let inner = try readTag()
                if inner.wireType == .endGroup {
                    guard inner.number == field else { throw ProtoWire.Malformed(reason: "a group end that does not match its start") }
                    return
                }
                try skip(inner.wireType, field: inner.number, depth: depth + 1)
            }
        }
    }

    private mutating func skipBytes(_ count: Int) throws(ProtoWire.Malformed) {
        guard memory.count - offset >= count else { throw ProtoWire.Malformed(reason: "a truncated fixed-size field") }
        offset += count
    }
}

/// Reads the fields of one protobuf message held in a `ByteBuffer`, in order, from the memory
/// the buffer lends for the read (``reading(_:_:)``); length-delimited values can be taken as
/// slices of the buffer, so nothing is copied.
struct ProtoWireReader {
    private var memory: ProtoWireMemoryReader
    /// The buffer the memory belongs to, for slices.
    private let buffer: ByteBuffer

    private init(_ memory: UnsafeRawBufferPointer, of buffer: ByteBuffer) {
        self.memory = ProtoWireMemoryReader(memory)
        self.buffer = buffer
    }

    /// Calls `body` with a reader of `buffer`'s readable bytes, valid only during the call.
    static func reading<Value>(
        _ buffer: ByteBuffer, _ body: (inout ProtoWireReader) throws(ProtoWire.Malformed) -> Value
    ) throws(ProtoWire.Malformed) -> Value {
        try buffer.withProtoWireMemory { memory throws(ProtoWire.Malformed) in
            var reader = ProtoWireReader(memory, of: buffer)
            return try body(&reader)
        }
    }

    /// The case of a message's oneof whose fields are `cases` (all messages), with every
    /// payload it came in; nil when none is set. Other fields are skipped; a case replaced by a
    /// later one is handed to `checkReplaced`, because its bytes must still be protobuf.
    static func oneofCase(
        of bytes: ByteBuffer, cases: ClosedRange<Int>,
        checkReplaced: (_ field: Int, _ payloads: WirePayloads) throws(ProtoWire.Malformed) -> Void
    ) throws(ProtoWire.Malformed) -> (field: Int, payloads: WirePayloads)? {
        try reading(bytes) { reader throws(ProtoWire.Malformed) in
            var kind: (field: Int, payloads: WirePayloads)?
            while let field = try reader.nextField() {
                guard cases.contains(field.number), field.wireType == .lengthDelimited else {
                    try reader.skip(field.wireType, field: field.number)
                    continue
                }
                let payload = try reader.readLengthDelimited()
                if let previous = kind, previous.field != field.number {
                    try checkReplaced(previous.field, previous.payloads)
                    kind = nil
                }
                if kind == nil { kind = (field.number, WirePayloads(payload)) } else { kind!.payloads.append(payload) }
            }
            return kind
        }
    }

    /// The next field's number and wire type, or nil at the message's end.
    mutating func nextField() throws(ProtoWire.Malformed) -> (number: Int, wireType: ProtoWire.WireType)? {
        try memory.nextField()
    }

    /// A varint value.
    mutating func readVarint() throws(ProtoWire.Malformed) -> UInt64 { try memory.readVarint() }

    /// A length-delimited value, as a slice of the message's buffer.
    mutating func readLengthDelimited() throws(ProtoWire.Malformed) -> ByteBuffer {
        slice(try memory.readLengthDelimitedRange())
    }

    /// A length-delimited value's memory, valid during the read: for a nested message read at
    /// once (a header), where a slice would cost a retain and a release.
    mutating func readLengthDelimitedMemory() throws(ProtoWire.Malformed) -> UnsafeRawBufferPointer {
        try memory.readLengthDelimited()
    }

    /// A string field's bytes as a slice, checked to be UTF-8, not made a String.
    mutating func readUTF8Bytes() throws(ProtoWire.Malformed) -> ByteBuffer {
        slice(try memory.readUTF8Range())
    }

    /// The bytes at `range` of the memory read, as a slice of its buffer.
    private func slice(_ range: Range<Int>) -> ByteBuffer {
        // Within the readable bytes: the memory reader checked every length against them.
        buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count)!
    }

    /// A string field's value; protobuf strings are UTF-8.
    mutating func readString() throws(ProtoWire.Malformed) -> String {
        String(decoding: try memory.readUTF8(), as: UTF8.self)
    }

    /// Skips a field's value of `wireType`.
    mutating func skip(_ wireType: ProtoWire.WireType, field: Int) throws(ProtoWire.Malformed) {
        try memory.skip(wireType, field: field)
    }
}

extension ByteBuffer {
    /// `withUnsafeReadableBytes` for a body that can only fail as ``ProtoWire/Malformed``
    /// (the buffer's own method rethrows untyped).
    func withProtoWireMemory<Value>(
        _ body: (UnsafeRawBufferPointer) throws(ProtoWire.Malformed) -> Value
    ) throws(ProtoWire.Malformed) -> Value {
        let outcome = withUnsafeReadableBytes { memory in
            Result { () throws(ProtoWire.Malformed) in try body(memory) }
        }
        return try outcome.get()
    }
}

extension UnsafeRawBufferPointer {
    /// Whether every byte is ASCII.
    var isASCII: Bool { allSatisfy { $0 < 0x80 } }
}
