import Foundation
import HTTPTypes
import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import SwiftProtobuf
import Testing

/// What the server makes of a tunnel client's exchange message (the code `scripts/fuzz` fuzzes).
@Suite("Exchange message decoding")
struct ExchangeMessageDecodingTests {
    @Test("header values travel as bytes: obs-text arrives unchanged")
    func obsText() throws {
        let latin1: [UInt8] = [0x63, 0x61, 0x66, 0xE9]  // "café" in Latin-1, invalid UTF-8
        let message = try decode(head(status: 200, headers: [("content-disposition", latin1)]))
        guard case .part(.head(let response)) = message else { Issue.record("not a head: \(message)"); return }
        let field = try #require(response.headerFields.first)
        #expect(field.withUnsafeBytesOfValue { Array($0) } == latin1)
    }

    @Test("a lowercase name is kept as it is, another is compared lowercased and keeps its spelling; ASCII values are text")
    func namesAndTextValues() throws {
        let message = try decode(head(status: 200, headers: [("x-lower", Array("a b".utf8)), ("X-Mixed", Array("c".utf8)), ("x-empty", [])]))
        guard case .part(.head(let response)) = message else { Issue.record("not a head: \(message)"); return }
        let fields = Array(response.headerFields)
        #expect(fields.map(\.name.rawName) == ["x-lower", "X-Mixed", "x-empty"])
        #expect(fields.map(\.name.canonicalName) == ["x-lower", "x-mixed", "x-empty"])
        #expect(fields.map(\.value) == ["a b", "c", ""])
        #expect(response.headerFields[HTTPField.Name("x-mixed")!] == "c")
    }

    @Test("CR, LF and NUL in a value cannot split the response: they become spaces")
    func noSplitting() throws {
        let message = try decode(head(status: 200, headers: [("x-a", Array("1\r\nset-cookie: stolen\u{0}".utf8))]))
        guard case .part(.head(let response)) = message else { Issue.record("not a head: \(message)"); return }
        let bytes = try #require(response.headerFields.first).withUnsafeBytesOfValue { Array($0) }
        #expect(!bytes.contains(13) && !bytes.contains(10) && !bytes.contains(0), "\(bytes)")
        #expect(response.headerFields.count == 1)
    }

    @Test("a head that cannot be rebuilt, or bytes that are not protobuf, are refused naming the problem", arguments: [
        ("invalid header name", try head(status: 200, headers: [("bad name", Array("v".utf8))])),
        ("invalid header name ':path'", try head(status: 200, headers: [(":path", Array("/".utf8))])),
        ("invalid status 42", try head(status: 42, headers: [])),
        ("not valid protobuf", [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ] as [(String, [UInt8])])
    func refused(expected: String, bytes: [UInt8]) {
        #expect {
            _ = try decode(bytes)
        } throws: { error in
            guard let error = error as? TunnelExchangeError else { return false }
            return error.code == .protocolViolation && error.message.contains(expected)
        }
    }

    @Test("an attach or an empty message has no place in an exchange; a failure carries its reason")
    func otherKinds() throws {
        var attach = Hopgate_Tunnel_V1_ExchangeFromClient()
        attach.attach = .init()
        #expect(try decode(attach.serializedBytes()) == .unexpected)
        #expect(try decode([]) == .unexpected)
        var failure = Hopgate_Tunnel_V1_ExchangeFromClient()
        failure.failure.message = "connection refused"
        #expect(try decode(failure.serializedBytes()) == .failure("connection refused"))
    }

    @Test("a coalesced head (coalesced-parts) gives its head, body and end in order; an interim one may not carry any")
    func coalesced() throws {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        message.head.status = 200
        message.head.body = Data("hello".utf8)
        message.head.end = .init()
        #expect(try decode(message.serializedBytes()) == .parts([.head(HTTPResponse(status: .ok)), .body(ByteBuffer(string: "hello")), .end(nil)]))

        message.head.clearEnd()
        #expect(try decode(message.serializedBytes()) == .parts([.head(HTTPResponse(status: .ok)), .body(ByteBuffer(string: "hello"))]))

        message.head.body = Data()
        message.head.end.trailers = [.with { $0.name = "grpc-status"; $0.value = Data("0".utf8) }]
        #expect(try decode(message.serializedBytes()) == .parts([.head(HTTPResponse(status: .ok)), .end([HTTPField.Name("grpc-status")!: "0"])]))

        message.head.status = 103
        #expect(throws: TunnelExchangeError.self) { try decode(message.serializedBytes()) }
    }

    private func decode(_ bytes: [UInt8]) throws -> ExchangeMessageDecoding.Message {
        try ExchangeMessageDecoding.message(serialized: ByteBuffer(bytes: bytes))
    }
}

private func head(status: UInt32, headers: [(String, [UInt8])]) throws -> [UInt8] {
    var message = Hopgate_Tunnel_V1_ExchangeFromClient()
    message.head.status = status
    message.head.headers = headers.map { name, value in
        var header = Hopgate_Tunnel_V1_Header()
        header.name = name
        header.value = Data(value)
        return header
    }
    return try message.serializedBytes()
}
