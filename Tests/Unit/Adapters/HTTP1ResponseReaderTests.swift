@testable import HopGateLocalForwarder
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The pooled connections' response reader, driving NIO's decoder without
/// `ByteToMessageHandler`: what that handler did for the decoder still happens.
@Suite("HTTP/1.1 response reader")
struct HTTP1ResponseReaderTests {
    /// A reader in a channel, and what it passed on.
    private struct Reader {
        let channel = EmbeddedChannel()
        let reader = HTTP1ResponseReader()

        init() throws {
            try channel.pipeline.syncOperations.addHandler(reader)
        }

        func request(_ method: HTTPMethod) {
            reader.requestSent(HTTPRequestHead(version: .http1_1, method: method, uri: "/"))
        }

        func read(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }

        /// The parts passed on so far, as short strings.
        func parts() throws -> [String] {
            var seen: [String] = []
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head): seen.append("head \(head.status.code)")
                case .body(let bytes): seen.append("body \(String(buffer: bytes))")
                case .end(let trailers): seen.append(trailers.map { "end \($0.map { "\($0.name)=\($0.value)" })" } ?? "end")
                }
            }
            return seen
        }
    }

    @Test("a HEAD answer has no body, and the next response on the connection is read whole")
    func headThenGet() throws {
        let connection = try Reader()
        connection.request(.HEAD)
        connection.request(.GET)
        try connection.read("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        #expect(try connection.parts() == ["head 200", "end", "head 200", "body hi", "end"])
        _ = try connection.channel.finish()
    }

    @Test("a response split anywhere, head included, is read as if it came at once")
    func splitReads() throws {
        let whole = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"
        for cut in [1, 9, 20, 30, whole.utf8.count - 3] {
            let connection = try Reader()
            connection.request(.GET)
            let bytes = Array(whole.utf8)
            try connection.read(String(decoding: bytes[..<cut], as: UTF8.self))
            try connection.read(String(decoding: bytes[cut...], as: UTF8.self))
            let parts = try connection.parts()
            #expect(parts.first == "head 200", "cut at \(cut)")
            #expect(parts.filter { $0.hasPrefix("body") }.map { $0.dropFirst(5) }.joined() == "abc", "cut at \(cut)")
            #expect(parts.last == "end [\"X-Sum=1\"]", "cut at \(cut): \(parts)")
            _ = try connection.channel.finish()
        }
    }

    @Test("a body delimited by the close ends when the connection does")
    func bodyToTheClose() throws {
        let connection = try Reader()
        connection.request(.GET)
        try connection.read("HTTP/1.1 200 OK\r\n\r\nsome")
        try connection.read(" bytes")
        #expect(try connection.parts() == ["head 200", "body some", "body  bytes"])
        connection.channel.pipeline.fireChannelInactive()
        #expect(try connection.parts() == ["end"])
        _ = try? connection.channel.finish()
    }

    @Test("a malformed response is passed on as an error, and nothing read after it is parsed")
    func malformedResponse() throws {
        let connection = try Reader()
        connection.request(.GET)
        connection.request(.GET)
        #expect(throws: HTTPParserError.self) { try connection.read("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n") }
        try connection.read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(try connection.parts() == [])
        _ = try? connection.channel.finish()
    }
}
