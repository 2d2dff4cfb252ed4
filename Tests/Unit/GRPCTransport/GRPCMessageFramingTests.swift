import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import NIOHPACK
import SwiftProtobuf
import Testing

/// gRPC's length-prefixed messages as the Exchange stream handler reads and writes them, and
/// the status details it sends.
@Suite("gRPC message framing")
struct GRPCMessageFramingTests {
    private func message(_ text: String) throws -> Hopgate_Tunnel_V1_ExchangeFromServer {
        var message = Hopgate_Tunnel_V1_ExchangeFromServer()
        message.cancel = Hopgate_Tunnel_V1_Cancel.with { $0.reason = text }
        return message
    }

    @Test("framed messages come out whole and in order, however the bytes are split into frames")
    func roundTripAcrossSplits() throws {
        var framed = ByteBuffer()
        let texts = ["a", String(repeating: "b", count: 300), "", "d"]
        for text in texts { try GRPCMessageFraming.append(message(text), to: &framed) }
        for split in [1, 2, 5, 7, 64, framed.readableBytes] {
            var deframer = GRPCMessageDeframer()
            var decoded: [String] = []
            var rest = framed
            while rest.readableBytes > 0 {
                deframer.append(rest.readSlice(length: min(split, rest.readableBytes))!)
                while let bytes = try deframer.next() {
                    decoded.append(try Hopgate_Tunnel_V1_ExchangeFromServer(serializedBytes: Array(bytes.readableBytesView)).cancel.reason)
                }
            }
            #expect(decoded == texts, "split every \(split) bytes")
            #expect(!deframer.holdsBytes)
        }
    }

    @Test("several Exchange messages framed together are the same bytes as each appended in turn")
    func framesTogether() throws {
        let head = ExchangeRequestHead(request: HTTPRequest(method: .get, scheme: "https", authority: "a.example", path: "/x"), requestID: "r1")
        let sets: [[ServerExchangeOutbound]] = [
            [.head(head), .end(nil)],
            [.body(ByteBuffer(repeating: 7, count: 5000)), .body(ByteBuffer(string: "tail")), .end(HTTPFields([HTTPField(name: HTTPField.Name("x-t")!, value: "1")]))],
            [.end(nil)],
        ]
        for messages in sets {
            var appended = ByteBuffer()
            for message in messages { GRPCMessageFraming.append(message, to: &appended) }
            #expect(GRPCMessageFraming.frames(of: messages, allocator: ByteBufferAllocator()) == appended)
            // One message framed alone: the same bytes as a one-message sequence.
            for message in messages {
                #expect(GRPCMessageFraming.frame(message, allocator: ByteBufferAllocator())
                    == GRPCMessageFraming.frames(of: CollectionOfOne(message), allocator: ByteBufferAllocator()))
            }
        }
        #expect(GRPCMessageFraming.frames(of: [ServerExchangeOutbound](), allocator: ByteBufferAllocator()).readableBytes == 0)
    }

    @Test("a compressed message and one over the limit are refused; a partial one waits")
    func refusals() throws {
        var deframer = GRPCMessageDeframer(maximumMessageBytes: 10)
        deframer.append(ByteBuffer(bytes: [0, 0, 0, 0]))
        #expect(try deframer.next() == nil)
        #expect(deframer.holdsBytes)

        var compressed = GRPCMessageDeframer()
        compressed.append(ByteBuffer(bytes: [1, 0, 0, 0, 1, 0x42]))
        #expect(throws: GRPCMessageDeframer.Failure.compressed) { try compressed.next() }

        var large = GRPCMessageDeframer(maximumMessageBytes: 10)
        large.append(ByteBuffer(bytes: [0, 0, 0, 0, 11]))
        #expect(throws: GRPCMessageDeframer.Failure.tooLarge(11)) { try large.next() }
    }

    @Test("only an uncompressed gRPC request for the Exchange method is taken over")
    func exchangeRequests() {
        func headers(_ pairs: [(String, String)]) -> HPACKHeaders { HPACKHeaders(pairs) }
        let path = ExchangeStreamHandler.exchangePath
        #expect(path == "/hopgate.tunnel.v1.Tunnel/Exchange")
        #expect(ExchangeStreamHandler.isExchange(headers([(":path", path), ("content-type", "application/grpc")])))
        #expect(ExchangeStreamHandler.isExchange(headers([(":path", path), ("content-type", "application/grpc+proto"), ("grpc-encoding", "identity")])))
        #expect(!ExchangeStreamHandler.isExchange(headers([(":path", path), ("content-type", "application/grpc"), ("grpc-encoding", "gzip")])))
        #expect(!ExchangeStreamHandler.isExchange(headers([(":path", "/hopgate.tunnel.v1.Tunnel/Control"), ("content-type", "application/grpc")])))
        #expect(!ExchangeStreamHandler.isExchange(headers([(":path", path), ("content-type", "text/plain")])))
        #expect(!ExchangeStreamHandler.isExchange(headers([(":path", path)])))
    }

    @Test("a status message is percent-encoded as grpc-message carries it")
    func statusMessages() {
        #expect(ExchangeStreamHandler.percentEncoded("the tunnel is draining") == "the tunnel is draining")
        #expect(ExchangeStreamHandler.percentEncoded("100% done\n") == "100%25 done%0A")
        #expect(ExchangeStreamHandler.percentEncoded("é") == "%C3%A9")
    }
}
