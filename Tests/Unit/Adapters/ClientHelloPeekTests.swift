@testable import HopGateEdge
import Testing

/// The ClientHello reader that spots ACME TLS-ALPN-01 validations before TLS starts.
@Suite("ClientHello peek")
struct ClientHelloPeekTests {
    /// A TLS 1.2-style ClientHello record with the given SNI and ALPN protocols.
    static func hello(serverName: String?, protocols: [String]) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var extensions: [UInt8] = []
        if let serverName {
            let name = Array(serverName.utf8)
            let entry = [0] + u16(name.count) + name
            let body = u16(entry.count) + entry
            extensions += u16(0) + u16(body.count) + body
        }
        if !protocols.isEmpty {
            let list = protocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            let body = u16(list.count) + list
            extensions += u16(16) + u16(body.count) + body
        }
        var hello: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        hello += u16(extensions.count) + extensions
        let handshake = [1, UInt8(hello.count >> 16), UInt8(hello.count >> 8 & 0xFF), UInt8(hello.count & 0xFF)] + hello
        return [22, 3, 1] + u16(handshake.count) + handshake
    }

    @Test("an acme-tls/1 hello with a server name is a validation")
    func validation() {
        #expect(ClientHelloPeek.inspect(Self.hello(serverName: "app.example.com", protocols: ["acme-tls/1"])) == .acmeTLSALPN(serverName: "app.example.com"))
    }

    @Test("ordinary hellos, hellos without SNI and non-TLS bytes are left to TLS")
    func ordinary() {
        #expect(ClientHelloPeek.inspect(Self.hello(serverName: "app.example.com", protocols: ["h2", "http/1.1"])) == .other)
        #expect(ClientHelloPeek.inspect(Self.hello(serverName: nil, protocols: ["acme-tls/1"])) == .other)
        #expect(ClientHelloPeek.inspect(Self.hello(serverName: "app.example.com", protocols: [])) == .other)
        #expect(ClientHelloPeek.inspect(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == .other)
    }

    @Test("a hello cut anywhere needs more bytes; corrupted lengths never trap")
    func partialAndCorrupt() {
        let full = Self.hello(serverName: "app.example.com", protocols: ["acme-tls/1"])
        for length in 0..<full.count {
            #expect(ClientHelloPeek.inspect(full.prefix(length)) == .needMore, "prefix \(length)")
        }
        // Every single-byte corruption inside the record gives some answer, never a crash.
        for index in 5..<full.count {
            for value: UInt8 in [0x00, 0xFF, 0x80] {
                var bytes = full
                bytes[index] = value
                _ = ClientHelloPeek.inspect(bytes)
            }
        }
        var huge = full
        huge[3] = 0xFF; huge[4] = 0xFF  // a record longer than TLS allows
        #expect(ClientHelloPeek.inspect(huge) == .other)
    }
}
