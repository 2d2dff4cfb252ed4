import HopGatePorts
import NIOCore
import Testing

@Suite("HTTP/2 frame alignment")
struct HTTP2FrameAlignmentTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// A frame with a payload of `length` bytes of `fill`, on stream 1.
    static func frame(length: Int, fill: UInt8 = 0xAB) -> [UInt8] {
        [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 0x0, 0x0, 0, 0, 0, 1]
            + [UInt8](repeating: fill, count: length)
    }

    /// Feeds `stream` in reads of random sizes; returns what was passed on, one array per emit.
    static func feed(_ stream: [UInt8], preface: Bool, maximumRead: Int, seed: UInt64) -> (emitted: [[UInt8]], alignment: HTTP2FrameAlignment) {
        var alignment = HTTP2FrameAlignment(expectsClientPreface: preface)
        var random = SeededGenerator(state: seed)
        var emitted: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let size = min(Int.random(in: 1...maximumRead, using: &random), stream.count - offset)
            alignment.take(ByteBuffer(bytes: stream[offset..<offset + size])) { emitted.append(Array($0.readableBytesView)) }
            offset += size
        }
        return (emitted, alignment)
    }

    /// Whether `bytes` is a whole number of frames.
    static func isWholeFrames(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            guard bytes.count - index >= 9 else { return false }
            index += 9 + (Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]))
        }
        return index == bytes.count
    }

    @Test("reads of any size come out whole frames, in order, nothing lost", arguments: [1, 7, 100, 16_393, 70_000])
    func readsOfAnySizeComeOutWholeFrames(maximumRead: Int) {
        var random = SeededGenerator(state: UInt64(maximumRead))
        var frames: [UInt8] = []
        for index in 0..<60 {
            let length = index % 10 == 0 ? 0 : Int.random(in: 1...16_384, using: &random)
            frames += Self.frame(length: length, fill: UInt8(truncatingIfNeeded: index))
        }
        let (emitted, alignment) = Self.feed(Self.preface + frames, preface: true, maximumRead: maximumRead, seed: 42)
        #expect(Array(emitted.joined()) == Self.preface + frames)
        let afterPreface = Array(Array(emitted.joined()).dropFirst(Self.preface.count))
        #expect(afterPreface == frames)
        // Every emit after the preface's is a whole number of frames.
        var prefaceLeft = Self.preface.count
        for chunk in emitted {
            if prefaceLeft > 0 {
                #expect(chunk.count <= prefaceLeft, "the preface is passed on by itself")
                prefaceLeft -= chunk.count
                continue
            }
            #expect(Self.isWholeFrames(chunk), "an emit of \(chunk.count) bytes ends inside a frame")
        }
        #expect(!alignment.holdsPartialFrame)
    }

    @Test("a client's side has no preface: the first bytes are a frame")
    func clientSideHasNoPreface() {
        let frames = Self.frame(length: 5) + Self.frame(length: 0) + Self.frame(length: 20_000)
        let (emitted, alignment) = Self.feed(frames, preface: false, maximumRead: 11, seed: 7)
        #expect(Array(emitted.joined()) == frames)
        #expect(emitted.allSatisfy(Self.isWholeFrames))
        #expect(!alignment.holdsPartialFrame)
    }

    @Test("a partial frame is held until its read completes it")
    func partialFrameIsHeld() {
        var alignment = HTTP2FrameAlignment(expectsClientPreface: false)
        let frame = Self.frame(length: 100)
        var emitted: [[UInt8]] = []
        alignment.take(ByteBuffer(bytes: frame[0..<50])) { emitted.append(Array($0.readableBytesView)) }
        #expect(emitted.isEmpty)
        #expect(alignment.holdsPartialFrame)
        alignment.take(ByteBuffer(bytes: frame[50...] + Self.frame(length: 1)[0..<4])) { emitted.append(Array($0.readableBytesView)) }
        #expect(emitted == [frame])
        #expect(alignment.holdsPartialFrame)
    }

    @Test("a frame longer than any peer may send turns it into a pass-through", arguments: [3, 9, 1000])
    func oversizedFramePassesThrough(maximumRead: Int) {
        let stream = Self.frame(length: 10) + Self.frame(length: HTTP2FrameAlignment.largestHeldFrame + 1) + Self.frame(length: 10)
        let (emitted, alignment) = Self.feed(stream, preface: false, maximumRead: maximumRead, seed: 3)
        #expect(Array(emitted.joined()) == stream)
        #expect(!alignment.holdsPartialFrame)
        // Once the long frame's header is seen, bytes go on as they come: no read waits for it.
        var direct = HTTP2FrameAlignment(expectsClientPreface: false)
        let head = Self.frame(length: 10) + Array(Self.frame(length: HTTP2FrameAlignment.largestHeldFrame + 1)[0..<14])
        var passed = 0
        direct.take(ByteBuffer(bytes: head)) { passed += $0.readableBytes }
        #expect(passed == head.count)
        #expect(!direct.holdsPartialFrame)
    }
}
