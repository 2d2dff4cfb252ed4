import NIOCore

/// An Exchange message that writes its own protobuf bytes straight into a `ByteBuffer`
/// (``ServerExchangeOutbound``, ``ClientExchangeOutbound``): the same bytes as SwiftProtobuf's
/// `serializedBytes()` of the generated message it stands for (fields in number order, proto3
/// defaults left out; `ExchangeWireTests` compares the two), without building that message, its
/// size visitor passes, an intermediate `[UInt8]` and the copy out of it.
///
/// Every Exchange message is one field of the message's `kind` oneof, a length-delimited
/// message of its own: the size of that field's content is computed once (a head's is a pass
/// over its header fields) and handed to the write.
protocol ExchangeWireMessage: Sendable {
    /// The number of the oneof field the message sets, and its content's size in bytes.
    var wireField: ExchangeWireField { get }
    /// Appends the field's content: `size` bytes (``wireField``'s), after its tag and length.
    func writeContent(size: Int, to buffer: inout ByteBuffer)
}

/// The one field an Exchange message sets: its number and the size of its content.
struct ExchangeWireField {
    let number: Int
    let size: Int

    /// The serialized message's size: the field's tag, length and content.
    var messageSize: Int { ProtoWire.lengthDelimitedSize(size) }
}

extension ExchangeWireMessage {
    /// The serialized size in bytes.
    var wireSize: Int { wireField.messageSize }

    /// Appends the serialized message (``wireSize`` bytes) to `buffer`.
    func writeWire(to buffer: inout ByteBuffer) {
        writeWire(wireField, to: &buffer)
    }

    /// Appends the serialized message, whose field is `field` (this message's ``wireField``).
    @inline(__always)
    func writeWire(_ field: ExchangeWireField, to buffer: inout ByteBuffer) {
        buffer.writeProtoLengthPrefix(field.number, count: field.size)
        writeContent(size: field.size, to: &buffer)
    }
}
