import Foundation
import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import SwiftProtobuf
import Testing

/// The Exchange messages' own protobuf encoding and decoding (``ExchangeWireMessage``,
/// ``ExchangeMessageDecoding/decode(_:)``, ``ServerExchangeMessage``) against SwiftProtobuf's,
/// on seeded random messages, and protobuf's rules on hand-made bytes.
@Suite("Exchange wire format")
struct ExchangeWireTests {
    @Test("the edge's messages encode to SwiftProtobuf's bytes of the messages they stand for")
    func serverEncoding() throws {
        var random = SeededGenerator(seed: 1)
        for _ in 0..<400 {
            let message = RandomExchange.serverOutbound(&random)
            #expect(wire(message) == (try message.protobuf.serializedBytes() as [UInt8]), "\(message)")
        }
    }

    @Test("the client's messages encode to SwiftProtobuf's bytes of the messages they stand for")
    func clientEncoding() throws {
        var random = SeededGenerator(seed: 2)
        for _ in 0..<400 {
            let message = RandomExchange.clientOutbound(&random)
            #expect(wire(message) == (try message.protobuf.serializedBytes() as [UInt8]), "\(message)")
        }
    }

    @Test("what the edge writes, the client decodes back to the same request parts")
    func serverRoundTrip() throws {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<400 {
            let message = RandomExchange.serverOutbound(&random)
            let decoded = try ServerExchangeMessage.decode(ByteBuffer(bytes: wire(message)))
            switch (message, decoded) {
            case (.head(let head, let end), .head(.success(let result))):
                // A missing scheme, authority or path travels as the protocol's default.
                let request = result.request.request
                #expect(request.method == head.request.method && request.path == (head.request.path ?? "/")
                        && request.headerFields == head.request.headerFields && result.request.requestID == head.requestID, "\(message)")
                // An End without trailers and one with an empty list are the same bytes.
                #expect(result.end == end.map { $0?.isEmpty == true ? nil : $0 }, "\(message)")
            case (.body(let body), .body(let got)): #expect(got == body)
            case (.end(let trailers), .end(.success(let got))): #expect(got == (trailers?.isEmpty == true ? nil : trailers))
            case (.cancel, .cancel): break
            default: Issue.record("\(message) decoded as \(decoded)")
            }
        }
    }

    @Test("the edge decodes a client's message as SwiftProtobuf and the conversions did")
    func clientDecoding() throws {
        var random = SeededGenerator(seed: 3)
        for _ in 0..<400 {
            let message = RandomExchange.fromClient(&random)
            let bytes: [UInt8] = try message.serializedBytes()
            let expected = Result { () throws(TunnelExchangeError) in try ExchangeMessageDecoding.message(message) }
            #expect(try ExchangeMessageDecoding.decode(ByteBuffer(bytes: bytes)) == expected, "\(message)")
        }
    }

    @Test("the client decodes a server's message as SwiftProtobuf and the conversions did")
    func serverDecoding() throws {
        var random = SeededGenerator(seed: 4)
        for _ in 0..<400 {
            let message = RandomExchange.fromServer(&random)
            let bytes: [UInt8] = try message.serializedBytes()
            let decoded = try ServerExchangeMessage.decode(ByteBuffer(bytes: bytes))
            switch (message.kind, decoded) {
            case (.head(let head)?, .head(let result)):
                let expected = Result { () throws(TunnelExchangeError) in
                    (try ProtoConversions.requestHead(head), head.hasEnd ? Optional(head.end.trailers.isEmpty ? nil : try ProtoConversions.fields(head.end.trailers)) : nil)
                }
                switch (result, expected) {
                case (.success(let got), .success(let want)):
                    #expect(got.request == want.0 && got.end == want.1, "\(message)")
                case (.failure(let got), .failure(let want)):
                    #expect(got == want)
                default:
                    Issue.record("\(result) against \(expected) for \(message)")
                }
            case (.body(let chunk)?, .body(let buffer)):
                #expect(Data(buffer.readableBytesView) == chunk.data)
            case (.end(let end)?, .end(let result)):
                let expected = Result { () throws(TunnelExchangeError) in end.trailers.isEmpty ? nil : try ProtoConversions.fields(end.trailers) }
                #expect(result == expected)
            case (.cancel?, .cancel), (nil, .none):
                break
            default:
                Issue.record("\(decoded) for \(message)")
            }
        }
    }

    @Test("damaged bytes: the decoders refuse exactly what SwiftProtobuf refuses")
    func damagedBytesAgree() throws {
        var random = SeededGenerator(seed: 5)
        var refused = 0
        for round in 0..<3_000 {
            var bytes: [UInt8] = round.isMultiple(of: 2)
                ? try RandomExchange.fromClient(&random).serializedBytes() : try RandomExchange.fromServer(&random).serializedBytes()
            guard !bytes.isEmpty else { continue }
            for _ in 0...random.next(below: 3) {
                let index = random.next(below: bytes.count)
                switch random.next(below: 3) {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.removeSubrange(index...)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                }
                if bytes.isEmpty { break }
            }
            let buffer = ByteBuffer(bytes: bytes)
            let clientValid = (try? Hopgate_Tunnel_V1_ExchangeFromClient(serializedBytes: bytes)) != nil
            let serverValid = (try? Hopgate_Tunnel_V1_ExchangeFromServer(serializedBytes: bytes)) != nil
            let edgeDecodes = (try? ExchangeMessageDecoding.decode(buffer)) != nil
            let clientDecodes = (try? ServerExchangeMessage.decode(buffer)) != nil
            #expect(edgeDecodes == clientValid, "ExchangeFromClient \(bytes)")
            #expect(clientDecodes == serverValid, "ExchangeFromServer \(bytes)")
            if !clientValid { refused += 1 }
        }
        #expect(refused > 100, "the damage should break some messages")
    }

    @Test("protobuf's rules: unknown fields and groups are skipped, a repeated case merges, the last case wins")
    func protobufRules() throws {
        var head = ByteBuffer()
        head.writeProtoTag(1, .varint)
        head.writeProtoVarint(404)
        appendHeader("x-a", "1", field: 3, to: &head)
        var laterHead = ByteBuffer()
        appendHeader("x-b", "2", field: 3, to: &laterHead)
        laterHead.writeProtoTag(9, .fixed32)
        laterHead.writeInteger(UInt32(7))
        laterHead.writeProtoTag(2, .varint)  // the reason with the wrong wire type: skipped
        laterHead.writeProtoVarint(1)

        var message = ByteBuffer()
        message.writeProtoTag(12, .startGroup)
        message.writeProtoTag(1, .fixed64)
        message.writeInteger(UInt64(1))
        message.writeProtoTag(12, .endGroup)
        message.writeProtoLengthPrefix(2, count: head.readableBytes)
        message.writeImmutableBuffer(head)
        message.writeProtoLengthPrefix(2, count: laterHead.readableBytes)
        message.writeImmutableBuffer(laterHead)
        let merged = try ExchangeMessageDecoding.decode(message).get()
        let fields: HTTPFields = [HTTPField.Name("x-a")!: "1", HTTPField.Name("x-b")!: "2"]
        #expect(merged == .part(.head(HTTPResponse(status: .notFound, headerFields: fields))))

        var failure = ByteBuffer()
        failure.writeProtoLengthPrefix(1, count: 4)
        failure.writeString("gone")
        message.writeProtoLengthPrefix(5, count: failure.readableBytes)
        message.writeImmutableBuffer(failure)
        #expect(try ExchangeMessageDecoding.decode(message).get() == .failure("gone"))
    }

    @Test("bytes that are not protobuf are refused naming why", arguments: [
        ([0x12, 0x05, 0x08], "truncated"),
        ([0x12, 0x03, 0x12, 0x01, 0xFF], "not UTF-8"),
        ([0x2A, 0x03, 0x0A, 0x01, 0xC3], "not UTF-8"),
        ([0x1C], "group end"),
        ([0x1B, 0x24], "does not match"),
        ([0x02, 0x00], "invalid field tag"),
        ([0x0F], "invalid field tag"),
        ([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "varint"),
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], reason: String) {
        #expect {
            _ = try ExchangeMessageDecoding.decode(ByteBuffer(bytes: bytes))
        } throws: { error in
            (error as? ProtoWire.Malformed)?.reason.contains(reason) == true
        }
    }

    @Test("a body arrives as a slice of the message's bytes, not a copy")
    func bodyIsASlice() throws {
        var buffer = ByteBuffer()
        ServerExchangeOutbound.body(ByteBuffer(repeating: 7, count: 300)).writeWire(to: &buffer)
        guard case .body(let body) = try ServerExchangeMessage.decode(buffer) else { Issue.record("not a body"); return }
        #expect(body.readableBytes == 300)
        let sameStorage = body.withUnsafeReadableBytes { slice in
            buffer.withUnsafeReadableBytes { whole in slice.baseAddress! >= whole.baseAddress! && slice.baseAddress! < whole.baseAddress! + whole.count }
        }
        #expect(sameStorage)
    }

    private func wire(_ message: some ExchangeWireMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        message.writeWire(to: &buffer)
        #expect(buffer.readableBytes == message.wireSize)
        return Array(buffer.readableBytesView)
    }

    private func appendHeader(_ name: String, _ value: String, field: Int, to buffer: inout ByteBuffer) {
        var header = Hopgate_Tunnel_V1_Header()
        header.name = name
        header.value = Data(value.utf8)
        let bytes: [UInt8] = try! header.serializedBytes()
        buffer.writeProtoLengthPrefix(field, count: bytes.count)
        buffer.writeBytes(bytes)
    }
}

extension SeededGenerator {
    init(seed: UInt64) { self.init(state: seed) }

    /// A number in `0..<bound`.
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Random Exchange messages with every kind, empty and long values, names valid and not.
enum RandomExchange {
    /// What the edge sends, as the port's types can hold it (valid names and methods).
    static func serverOutbound(_ random: inout SeededGenerator) -> ServerExchangeOutbound {
        switch random.next(below: 4) {
        case 0:
            var request = HTTPRequest(
                method: [.get, .post, .head, HTTPRequest.Method("PROPFIND")!][random.next(below: 4)],
                scheme: ["https", "http", nil][random.next(below: 3)],
                authority: [nil, "bench.localhost", "x.example:8443"][random.next(below: 3)],
                path: [nil, "/", "/a?b=c", "/" + String(repeating: "p", count: 130 + random.next(below: 300))][random.next(below: 4)])
            request.headerFields = fields(&random)
            let head = ExchangeRequestHead(request: request, requestID: text(&random))
            let end: HTTPFields?? = [nil, .some(nil), .some(fields(&random))][random.next(below: 3)]
            return .head(head, end: end)
        case 1: return .body(ByteBuffer(bytes: bytes(&random)))
        case 2: return .end(random.next(below: 2) == 0 ? nil : fields(&random))
        default: return .cancel(reason: text(&random))
        }
    }

    /// What the client sends, as the port's types can hold it.
    static func clientOutbound(_ random: inout SeededGenerator) -> ClientExchangeOutbound {
        switch random.next(below: 5) {
        case 0: return .attach(tunnelID: text(&random), token: bytes(&random))
        case 1:
            var response = HTTPResponse(status: .init(code: [100, 103, 200, 204, 404, 599, 999][random.next(below: 7)], reasonPhrase: ["", "OK", "Not Found"][random.next(below: 3)]))
            response.headerFields = fields(&random)
            let body: ByteBuffer? = random.next(below: 3) == 0 ? nil : ByteBuffer(bytes: bytes(&random))
            let end: HTTPFields?? = [nil, .some(nil), .some(fields(&random))][random.next(below: 3)]
            return .head(response, body: body, end: end)
        case 2: return .body(ByteBuffer(bytes: bytes(&random)))
        case 3: return .end(random.next(below: 2) == 0 ? nil : fields(&random))
        default: return .failure(message: text(&random))
        }
    }

    private static func fields(_ random: inout SeededGenerator) -> HTTPFields {
        var fields = HTTPFields()
        for _ in 0..<random.next(below: 6) {
            let name = ["content-type", "Content-Length", "x-request-id", "set-cookie", "x-" + String(repeating: "n", count: 200)][random.next(below: 5)]
            fields.append(HTTPField(name: HTTPField.Name(name)!, value: bytes(&random)))
        }
        return fields
    }

    static func fromServer(_ random: inout SeededGenerator) -> Hopgate_Tunnel_V1_ExchangeFromServer {
        var message = Hopgate_Tunnel_V1_ExchangeFromServer()
        switch random.next(below: 5) {
        case 0:
            var head = Hopgate_Tunnel_V1_RequestHead()
            head.requestID = text(&random)
            head.method = ["GET", "POST", "", "BAD METHOD", "PATCH"][random.next(below: 5)]
            head.scheme = ["https", "http", ""][random.next(below: 3)]
            head.authority = text(&random)
            head.path = text(&random)
            head.headers = headers(&random)
            if random.next(below: 2) == 0 { head.end.trailers = headers(&random) }
            message.head = head
        case 1: message.body.data = bytes(&random)
        case 2: message.end.trailers = headers(&random)
        case 3: message.cancel.reason = text(&random)
        default: break
        }
        return message
    }

    static func fromClient(_ random: inout SeededGenerator) -> Hopgate_Tunnel_V1_ExchangeFromClient {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        switch random.next(below: 6) {
        case 0:
            message.attach.tunnelID = text(&random)
            message.attach.exchangeToken = bytes(&random)
        case 1:
            var head = Hopgate_Tunnel_V1_ResponseHead()
            head.status = [0, 100, 103, 200, 204, 404, 999, 1000, 70_000][random.next(below: 9)]
            head.reason = text(&random)
            head.headers = headers(&random)
            head.body = bytes(&random)
            if random.next(below: 2) == 0 { head.end.trailers = headers(&random) }
            message.head = head
        case 2: message.body.data = bytes(&random)
        case 3: message.end.trailers = headers(&random)
        case 4: message.failure.message = text(&random)
        default: break
        }
        return message
    }

    private static func headers(_ random: inout SeededGenerator) -> [Hopgate_Tunnel_V1_Header] {
        (0..<random.next(below: 6)).map { _ in
            var header = Hopgate_Tunnel_V1_Header()
            header.name = ["content-type", "Content-Length", "x-ü", "", "bad name", "x-request-id", String(repeating: "x", count: 200)][random.next(below: 7)]
            header.value = bytes(&random)
            return header
        }
    }

    private static func text(_ random: inout SeededGenerator) -> String {
        ["", "/", "/a?b=c", "bench.localhost", "한국어", String(repeating: "p", count: 130 + random.next(below: 300))][random.next(below: 6)]
    }

    private static func bytes(_ random: inout SeededGenerator) -> Data {
        let count = [0, 1, 5, 127, 128, 300, 17_000][random.next(below: 7)]
        return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) })
    }
}
