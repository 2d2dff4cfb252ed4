import NIOCore
import SwiftProtobuf

/// gRPC's length-prefixed messages on an HTTP/2 stream's DATA: a compression flag byte, a
/// 32-bit big-endian length, then the message. Used by the Exchange streams the server serves
/// in their channel handler (``ExchangeStreamHandler``); HopGate never compresses them.
enum GRPCMessageFraming {
    /// The length prefix's size.
    static let prefixBytes = 5

    /// Appends `message`, serialized and prefixed, to `buffer`.
    static func append(_ message: some SwiftProtobuf.Message, to buffer: inout ByteBuffer) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        buffer.reserveCapacity(minimumWritableBytes: prefixBytes + bytes.count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// `messages`, framed one after another in a buffer allocated once: appended to an empty
    /// buffer, each message cost a reallocation (two allocations per request on each side).
    /// It is made for the first message; NIO rounds its capacity up to a power of two, so the
    /// small messages that may follow (a request's End after its head) usually fit too.
    static func frames<Message: ExchangeWireMessage>(of messages: some Sequence<Message>, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer: ByteBuffer?
        for message in messages {
            let field = message.wireField
            if buffer == nil { buffer = allocator.buffer(capacity: prefixBytes + field.messageSize) }
            append(message, field: field, to: &buffer!)
        }
        return buffer ?? allocator.buffer(capacity: 0)
    }

    /// One message, framed in a buffer of its size: what ``frames(of:allocator:)`` makes of a
    /// one-message sequence, without iterating one (the writers are generic, so that iteration
    /// was not specialized: ≈ 1,800 instructions per message on the client, callgrind).
    static func frame(_ message: some ExchangeWireMessage, allocator: ByteBufferAllocator) -> ByteBuffer {
        let field = message.wireField
        var buffer = allocator.buffer(capacity: prefixBytes + field.messageSize)
        append(message, field: field, to: &buffer)
        return buffer
    }

    /// Appends an Exchange message, serialized straight into `buffer` behind its prefix.
    static func append(_ message: some ExchangeWireMessage, to buffer: inout ByteBuffer) {
        append(message, field: message.wireField, to: &buffer)
    }

    /// Appends `message`, whose field is `field` (its ``ExchangeWireMessage/wireField``, computed
    /// once: a head's size is a pass over its header fields), behind its prefix.
    private static func append(_ message: some ExchangeWireMessage, field: ExchangeWireField, to buffer: inout ByteBuffer) {
        let size = field.messageSize
        buffer.reserveCapacity(minimumWritableBytes: prefixBytes + size)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(size))
        message.writeWire(field, to: &buffer)
    }
}

/// Cuts the bytes of an HTTP/2 stream's DATA frames into gRPC messages.
///
/// The frames' bytes are copied into a buffer of its own, so that a message never pins the
/// HTTP/2 frame decoder's buffer (see ``DataFrameCopier``).
struct GRPCMessageDeframer {
    /// Why the stream's bytes are not gRPC messages this server takes.
    enum Failure: Error, Equatable {
        /// A message with the compression flag set: nothing was negotiated.
        case compressed
        /// A message longer than the limit.
        case tooLarge(Int)
    }

    /// The longest message taken (grpc-swift's default request payload limit, which the
    /// tunnel listener keeps).
    let maximumMessageBytes: Int
    private var buffer = ByteBuffer()

    init(maximumMessageBytes: Int = 4 << 20) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Whether bytes of an unfinished message are held.
    var holdsBytes: Bool { buffer.readableBytes > 0 }

    mutating func append(_ bytes: ByteBuffer) {
        // Reused when no message handed out still uses it; otherwise (a body is a slice of it,
        // see ``ExchangeMessageDecoding``) a new one as large as what comes, not as the old one.
        if buffer.readableBytes == 0 { buffer.clear(minimumCapacity: bytes.readableBytes) }
        buffer.writeImmutableBuffer(bytes)
    }

    /// The next whole message, or nil until more bytes come.
    mutating func next() throws(Failure) -> ByteBuffer? {
        guard let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        guard flag == 0 else { throw .compressed }
        guard length <= maximumMessageBytes else { throw .tooLarge(Int(length)) }
        guard buffer.readableBytes >= GRPCMessageFraming.prefixBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: GRPCMessageFraming.prefixBytes)
        return buffer.readSlice(length: Int(length))
    }
}
