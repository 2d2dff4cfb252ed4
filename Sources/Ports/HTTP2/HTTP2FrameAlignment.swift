public import NIOCore

/// Cuts the bytes an HTTP/2 connection receives at frame boundaries before its HTTP/2 handler
/// sees them: whole frames are passed on as they arrived (slices, no copy), and the partial frame
/// a read ends with is held, in a buffer of its own, until the next read completes it.
///
/// Surprising but measured: swift-nio-http2's frame decoder empties its accumulation buffer only
/// when a read ends exactly on a frame boundary. A busy connection almost never does (TLS records
/// and HTTP/2 frames are both about 16 KiB, offset by headers), so the buffer's reader and writer
/// indices race each other upwards: during a 1 GiB download through the tunnel the edge's decoder
/// buffer grew 256 KiB → 64 MiB by doubling, and was copied whole (64 MiB each time) whenever a
/// DATA frame still pinned it — 20–110 MiB of edge RSS growth, different every run. Fed whole
/// frames, the decoder ends every read empty and starts each from the front of its buffer.
///
/// The handlers that apply it are adapters (the tunnel transport's and the public HTTPS
/// server's); this is their shared logic. A frame longer than ``largestHeldFrame`` (more than any
/// peer may send under our settings) turns it into a pass-through for the rest of the
/// connection, so that the HTTP/2 handler sees the frame header at once and refuses it.
public struct HTTP2FrameAlignment: Sendable {
    /// The client connection preface (`PRI * HTTP/2.0…`), which precedes the first frame.
    public static let clientPrefaceBytes = 24
    /// An HTTP/2 frame header: length (24 bits), type, flags, stream id.
    public static let frameHeaderBytes = 9
    /// The longest frame payload held back whole. Our peers are told the default maximum,
    /// 16 KiB; anything up to 64 KiB is still held, longer frames are passed through.
    public static let largestHeldFrame = 1 << 16

    private var prefaceLeft: Int
    /// The received part of a frame that did not end with its read.
    private var held: ByteBuffer?
    private var passingThrough = false

    /// - Parameter expectsClientPreface: true on the server's side of a connection, whose input
    ///   starts with the client's 24-byte preface rather than a frame.
    public init(expectsClientPreface: Bool) {
        prefaceLeft = expectsClientPreface ? Self.clientPrefaceBytes : 0
    }

    /// Whether a partial frame is held back.
    public var holdsPartialFrame: Bool { held != nil }

    /// Takes the bytes of one read and passes on, through `emit` and in order, the bytes that end
    /// on a frame boundary (the preface first; then a held frame this read completed; then the
    /// whole frames of this read). What is left of a frame stays held for the next read.
    public mutating func take(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) {
        var input = bytes
        guard input.readableBytes > 0 else { return }
        if passingThrough { return emit(input) }
        if prefaceLeft > 0 {
            let preface = input.readSlice(length: min(prefaceLeft, input.readableBytes))!
            prefaceLeft -= preface.readableBytes
            emit(preface)
            if prefaceLeft > 0 { return }
        }
        if held != nil {
            guard completeHeldFrame(from: &input, emit: emit) else { return }
        }
        var wholeFrames = 0
        while let length = Self.payloadLength(in: input, at: wholeFrames) {
            guard length <= Self.largestHeldFrame else { return passThrough(input, emit: emit) }
            let frame = Self.frameHeaderBytes + length
            guard input.readableBytes - wholeFrames >= frame else { break }
            wholeFrames += frame
        }
        if wholeFrames > 0 { emit(input.readSlice(length: wholeFrames)!) }
        if input.readableBytes > 0 { hold(input) }
    }

    /// Adds this read's bytes to the held frame until it is whole; returns whether it is (it was
    /// then emitted and `input` holds what follows it).
    private mutating func completeHeldFrame(from input: inout ByteBuffer, emit: (ByteBuffer) -> Void) -> Bool {
        guard var frame = held else { return true }
        held = nil
        if frame.readableBytes < Self.frameHeaderBytes {
            var header = input.readSlice(length: min(Self.frameHeaderBytes - frame.readableBytes, input.readableBytes))!
            frame.writeBuffer(&header)
            guard frame.readableBytes == Self.frameHeaderBytes else {
                held = frame
                return false
            }
        }
        let length = Self.payloadLength(in: frame, at: 0)!
        guard length <= Self.largestHeldFrame else {
            passThrough(frame, emit: emit)
            passThrough(input, emit: emit)
            input.moveReaderIndex(to: input.writerIndex)
            return false
        }
        let missing = Self.frameHeaderBytes + length - frame.readableBytes
        var rest = input.readSlice(length: min(missing, input.readableBytes))!
        frame.writeBuffer(&rest)
        guard frame.readableBytes == Self.frameHeaderBytes + length else {
            held = frame
            return false
        }
        emit(frame)
        return true
    }

    /// Keeps the start of a frame, in a buffer of its own sized for the whole frame when its
    /// header has come (so completing it never reallocates, and it pins no one else's buffer).
    private mutating func hold(_ part: ByteBuffer) {
        let whole = Self.payloadLength(in: part, at: 0).map { Self.frameHeaderBytes + $0 } ?? Self.frameHeaderBytes
        var copy = ByteBufferAllocator().buffer(capacity: max(whole, part.readableBytes))
        copy.writeImmutableBuffer(part)
        held = copy
    }

    private mutating func passThrough(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) {
        passingThrough = true
        if bytes.readableBytes > 0 { emit(bytes) }
    }

    /// The payload length in the frame header at `offset` past the reader index, or nil when
    /// fewer than nine bytes are there.
    private static func payloadLength(in buffer: ByteBuffer, at offset: Int) -> Int? {
        guard buffer.readableBytes - offset >= frameHeaderBytes else { return nil }
        let index = buffer.readerIndex + offset
        guard let high = buffer.getInteger(at: index, as: UInt8.self),
              let low = buffer.getInteger(at: index + 1, as: UInt16.self)
        else { return nil }
        return Int(high) << 16 | Int(low)
    }
}
