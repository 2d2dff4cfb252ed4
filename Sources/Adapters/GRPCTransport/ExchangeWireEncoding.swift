import NIOCore

/// An Exchange message that writes its own protobuf bytes straight into a `ByteBuffer`
/// (``ServerExchangeOutbound``, ``ClientExchangeOutbound``): the same bytes as SwiftProtobuf's
/// `serializedBytes()` of the generated message it stands for (fields in number order, proto3
/// defaults left out; `ExchangeWireTests` compares the two), without building that message, its
/// size visitor passes, an intermediate `[UInt8]` and the copy out of it.
protocol ExchangeWireMessage: Sendable {
    /// The serialized size in bytes.
    var wireSize: Int { get }
    /// Appends the serialized message (`wireSize` bytes) to `buffer`.
    func writeWire(to buffer: inout ByteBuffer)
}
