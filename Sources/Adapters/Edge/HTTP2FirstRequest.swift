import NIOCore
import NIOHPACK

/// Reads the first request of an HTTP/2 connection from its raw bytes (the client preface, then
/// frames up to the first complete header block), to tell a gRPC tunnel client from web traffic
/// on the shared HTTPS port when both negotiated ALPN `h2`.
///
/// Pure: it only looks at bytes; ``SharedPortHTTP2Sniffer`` feeds it and acts on the answer.
enum HTTP2FirstRequest {
    /// What the bytes so far say about the connection.
    enum Verdict: Equatable {
        /// Not enough bytes yet.
        case needMore
        /// The first request is a gRPC call to a method under `servicePath`: the tunnel's.
        case tunnel
        /// Anything else (a web request, or bytes that are not HTTP/2: the web stack answers them).
        case web
    }

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let frameHeaderBytes = 9

    enum FrameType {
        static let data: UInt8 = 0x0
        static let headers: UInt8 = 0x1
        static let settings: UInt8 = 0x4
        static let continuation: UInt8 = 0x9
    }

    enum Flags {
        static let ack: UInt8 = 0x1
        static let endHeaders: UInt8 = 0x4
        static let padded: UInt8 = 0x8
        static let priority: UInt8 = 0x20
    }

    /// Classifies `bytes`, the connection's inbound bytes from its start.
    /// - Parameter servicePath: the tunnel service's path prefix, e.g. `/hopgate.tunnel.v1.Tunnel/`.
    static func classify(_ bytes: ByteBuffer, servicePath: String) -> Verdict {
        var buffer = bytes
        guard buffer.readableBytes >= preface.count else {
            return buffer.readableBytesView.elementsEqual(preface.prefix(buffer.readableBytes)) ? .needMore : .web
        }
        guard buffer.readBytes(length: preface.count) == preface else { return .web }
        var block = ByteBuffer()
        var blockStream: UInt32?
        while let header = frameHeader(&buffer) {
            guard buffer.readableBytes >= header.length, var payload = buffer.readSlice(length: header.length) else { return .needMore }
            if let stream = blockStream {
                // A header block continues only in CONTINUATION frames of its own stream.
                guard header.type == FrameType.continuation, header.stream == stream else { return .web }
                block.writeBuffer(&payload)
            } else if header.type == FrameType.headers {
                guard let fragment = headerBlockFragment(of: &payload, flags: header.flags) else { return .web }
                var fragmentCopy = fragment
                block.writeBuffer(&fragmentCopy)
                blockStream = header.stream
            } else if header.type == FrameType.data || header.type == FrameType.continuation {
                return .web  // a request body or a continuation before any request head
            } else {
                continue  // SETTINGS, WINDOW_UPDATE, PING, PRIORITY … come before the first request
            }
            if header.flags & Flags.endHeaders != 0 { return verdict(forHeaderBlock: block, servicePath: servicePath) }
        }
        return .needMore
    }

    struct FrameHeader {
        var length: Int
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
    }

    /// Reads one frame header, or nil (reading nothing) when fewer than 9 bytes remain.
    static func frameHeader(_ buffer: inout ByteBuffer) -> FrameHeader? {
        guard buffer.readableBytes >= frameHeaderBytes,
              let high = buffer.readInteger(as: UInt8.self), let low = buffer.readInteger(as: UInt16.self),
              let type = buffer.readInteger(as: UInt8.self), let flags = buffer.readInteger(as: UInt8.self),
              let stream = buffer.readInteger(as: UInt32.self)
        else { return nil }
        return FrameHeader(length: Int(high) << 16 | Int(low), type: type, flags: flags, stream: stream & 0x7FFF_FFFF)
    }

    /// A HEADERS frame's payload without its padding and priority fields.
    private static func headerBlockFragment(of payload: inout ByteBuffer, flags: UInt8) -> ByteBuffer? {
        var padding = 0
        if flags & Flags.padded != 0 {
            guard let length = payload.readInteger(as: UInt8.self) else { return nil }
            padding = Int(length)
        }
        if flags & Flags.priority != 0 {
            guard payload.readSlice(length: 5) != nil else { return nil }
        }
        guard payload.readableBytes >= padding else { return nil }
        return payload.readSlice(length: payload.readableBytes - padding)
    }

    private static func verdict(forHeaderBlock block: ByteBuffer, servicePath: String) -> Verdict {
        // The connection's first header block: the dynamic table is empty, and its default size
        // (4096) applies because the server has announced no other.
        var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
        var block = block
        guard let headers = try? decoder.decodeHeaders(from: &block),
              let path = headers.first(name: ":path"), let contentType = headers.first(name: "content-type")
        else { return .web }
        return path.hasPrefix(servicePath) && contentType.lowercased().hasPrefix("application/grpc") ? .tunnel : .web
    }
}
