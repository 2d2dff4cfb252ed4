@testable import HopGateEdge
import NIOCore
import NIOHPACK
import Testing

/// The shared port's first-request sniffing: a gRPC call to the tunnel service over plain `h2`
/// goes to the tunnel, everything else to the web; the sniffer's own SETTINGS is acknowledged
/// once and that acknowledgement never reaches the chosen HTTP/2 stack.
@Suite("HTTP/2 first request")
struct HTTP2FirstRequestTests {
    static let servicePath = "/hopgate.tunnel.v1.Tunnel/"

    func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = []) -> [UInt8] {
        [UInt8(payload.count >> 16 & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count & 0xFF), type, flags]
            + withUnsafeBytes(of: stream.bigEndian, Array.init) + payload
    }

    func headerBlock(_ fields: [(String, String)]) throws -> [UInt8] {
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var buffer = ByteBuffer()
        try encoder.encode(headers: HPACKHeaders(fields), to: &buffer)
        return Array(buffer.readableBytesView)
    }

    func grpcRequest(path: String = "/hopgate.tunnel.v1.Tunnel/Control", contentType: String = "application/grpc") throws -> [UInt8] {
        try headerBlock([(":method", "POST"), (":scheme", "https"), (":path", path), (":authority", "hopgate.localhost"),
                         ("content-type", contentType), ("te", "trailers")])
    }

    func classify(_ bytes: [UInt8]) -> HTTP2FirstRequest.Verdict {
        HTTP2FirstRequest.classify(ByteBuffer(bytes: bytes), servicePath: Self.servicePath)
    }

    var opening: [UInt8] { HTTP2FirstRequest.preface + frame(4, [0, 4, 0, 0, 0xFF, 0xFF]) + frame(8, [0, 0, 0x10, 0]) }

    @Test func aTunnelCallIsTheTunnelsWhateverFramesComeFirst() throws {
        let bytes = opening + frame(1, flags: 0x4 | 0x1, stream: 1, try grpcRequest())
        #expect(classify(bytes) == .tunnel)
        #expect(classify(opening + frame(1, flags: 0x4, stream: 1, try grpcRequest(contentType: "application/grpc+proto"))) == .tunnel)
    }

    @Test func aHeaderBlockSplitOverContinuationAndPaddedIsStillRead() throws {
        let block = try grpcRequest()
        let padded = [UInt8(3)] + [0, 0, 0, 1, 16] + block.prefix(10) + [0, 0, 0]  // pad length, priority, fragment, padding
        let bytes = opening + frame(1, flags: 0x8 | 0x20, stream: 1, Array(padded)) + frame(9, flags: 0x4, stream: 1, Array(block.dropFirst(10)))
        #expect(classify(bytes) == .tunnel)
    }

    @Test func everyPrefixOfATunnelCallNeedsMore() throws {
        let bytes = opening + frame(1, flags: 0x4, stream: 1, try grpcRequest())
        for length in 0..<bytes.count {
            #expect(classify(Array(bytes.prefix(length))) == .needMore, "prefix of \(length) bytes")
        }
    }

    @Test func webRequestsAndOtherGRPCAreTheWebs() throws {
        let browser = try headerBlock([(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "app.example.com")])
        #expect(classify(opening + frame(1, flags: 0x4, stream: 1, browser)) == .web)
        #expect(classify(opening + frame(1, flags: 0x4, stream: 1, try grpcRequest(path: "/other.Service/Call"))) == .web)
        #expect(classify(opening + frame(1, flags: 0x4, stream: 1, try grpcRequest(contentType: "text/plain"))) == .web)
        #expect(classify(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) == .web, "not HTTP/2 at all")
        #expect(classify(opening + frame(0, stream: 1, [1, 2, 3])) == .web, "DATA before any HEADERS")
        #expect(classify(opening + frame(1, flags: 0x4, stream: 1, [0xFF, 0xFF, 0xFF])) == .web, "a header block HPACK cannot decode")
    }

    @Test func theFilterDropsOnlyTheFirstSettingsAckAcrossAnySplit() throws {
        let ack = frame(4, flags: 0x1)
        let data = frame(0, stream: 1, Array(repeating: 0x41, count: 30))  // its payload even looks like frames
        let input = opening + frame(1, flags: 0x4, stream: 1, try grpcRequest()) + data + ack + data + ack
        let expected = opening + frame(1, flags: 0x4, stream: 1, try grpcRequest()) + data + data + ack
        for split in [1, 2, 5, 9, 13, 100] {
            var filter = SettingsAckFilter()
            var output: [UInt8] = []
            var index = 0
            while index < input.count {
                var chunk = ByteBuffer(bytes: input[index..<min(index + split, input.count)])
                let forwarded = filter.process(&chunk, allocator: ByteBufferAllocator())
                output += Array(forwarded.readableBytesView)
                index += split
            }
            #expect(output == expected, "reads of \(split) bytes")
            #expect(filter.dropped)
        }
    }
}
