import NIOCore

/// Protocol Buffers' binary wire format, the few primitives the Exchange messages need, read and
/// written straight from and to `ByteBuffer`s: ``ExchangeWireMessage``,
/// ``ExchangeMessageDecoding`` and ``ServerExchangeMessage`` use them in place of SwiftProtobuf
/// on the data path.
///
/// https://protobuf.dev/programming-guides/encoding/
enum ProtoWire {
    /// A field's wire type: how its value is laid out.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// Bytes that are not a protobuf message: truncated, a malformed varint or tag, an unmatched
    /// group end, or a string field that is not UTF-8.
    struct Malformed: Error, Equatable {
        /// What is wrong, for logs.
        let reason: String
    }

    /// How many bytes `value` takes as a varint.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of 7 bits, at least one.
        (63 - (value | 1).leadingZeroBitCount) / 7 + 1
    }

    /// How many bytes a length-delimited field of `count` payload bytes takes, its tag included
    /// (a field number below 16 has a one-byte tag).
    @inline(__always)
    static func lengthDelimitedSize(_ count: Int) -> Int {
        1 + varintSize(UInt64(count)) + count
    }
}

extension ByteBuffer {
    /// Writes `value` as a varint, in one call into the buffer (``ProtoWireCursor``).
    @inline(__always)
    mutating func writeProtoVarint(_ value: UInt64) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: ProtoWire.varintSize(value)) { memory in
            var cursor = ProtoWireCursor(memory)
            cursor.writeVarint(value)
            return cursor.count
        }
    }

    /// Writes a tag: field number and wire type (field numbers below 16 take one byte).
    @inline(__always)
    mutating func writeProtoTag(_ field: Int, _ wireType: ProtoWire.WireType) {
        writeProtoVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// Writes a length-delimited field's tag and length, in one call into the buffer; its
    /// `count` payload bytes follow.
    @inline(__always)
    mutating func writeProtoLengthPrefix(_ field: Int, count: Int) {
        let tag = UInt64(field) << 3 | UInt64(ProtoWire.WireType.lengthDelimited.rawValue)
        writeWithUnsafeMutableBytes(minimumWritableBytes: ProtoWire.varintSize(tag) + ProtoWire.varintSize(UInt64(count))) { memory in
            var cursor = ProtoWireCursor(memory)
            cursor.writeLengthPrefix(field, length: count)
            return cursor.count
        }
    }
}

/// Writes protobuf wire bytes straight into memory a `ByteBuffer` lends
/// (`writeWithUnsafeMutableBytes`): a header field's dozen tags, lengths and strings in one call
/// into the buffer, where writing each of them was a call of its own (with its own checks) —
/// 96 such calls per request on the edge, measured with callgrind.
struct ProtoWireCursor {
    private let memory: UnsafeMutableRawBufferPointer
    /// The bytes written so far.
    private(set) var count = 0

    /// Writes into `memory`, which must hold everything written.
    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
    }

    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            memory[count] = UInt8(truncatingIfNeeded: value) | 0x80
            count += 1
            value >>= 7
        }
        memory[count] = UInt8(value)
        count += 1
    }

    /// A length-delimited field's tag and length; its `length` payload bytes follow.
    @inline(__always)
    mutating func writeLengthPrefix(_ field: Int, length: Int) {
        writeVarint(UInt64(field) << 3 | UInt64(ProtoWire.WireType.lengthDelimited.rawValue))
        writeVarint(UInt64(length))
    }

    @inline(__always)
    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: memory[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }
}

/// The payloads of one message field seen more than once, in order (protobuf merges them: a
/// message's fields read over all of them). Nearly always one, held without an array.
struct WirePayloads: Sequence {
    private let first: ByteBuffer
    private var more: [ByteBuffer] = []

    init(_ first: ByteBuffer) { self.first = first }

    mutating func append(_ payload: ByteBuffer) { more.append(payload) }

    /// The last value of the length-delimited field 1 over the payloads (the one field of a
    /// `BodyChunk`, `Failure`, `Cancel`; the tunnel id of an `Attach`), checked as UTF-8 when
    /// `utf8`; every payload is read to its end, so all of it is checked as protobuf.
    func lastFieldOne(utf8: Bool) throws(ProtoWire.Malformed) -> ByteBuffer? {
        var value: ByteBuffer?
        for payload in self {
            try ProtoWireReader.reading(payload) { reader throws(ProtoWire.Malformed) in
                while let field = try reader.nextField() {
                    if field.number == 1, field.wireType == .lengthDelimited {
                        value = utf8 ? try reader.readUTF8Bytes() : try reader.readLengthDelimited()
                    } else {
                        try reader.skip(field.wireType, field: field.number)
                    }
                }
            }
        }
        return value
    }

    func makeIterator() -> Iterator { Iterator(payloads: self) }

    struct Iterator: IteratorProtocol {
        fileprivate let payloads: WirePayloads
        private var index = 0

        fileprivate init(payloads: WirePayloads) { self.payloads = payloads }

        mutating func next() -> ByteBuffer? {
            defer { index += 1 }
            if index == 0 { return payloads.first }
            return index <= payloads.more.count ? payloads.more[index - 1] : nil
        }
    }
}
