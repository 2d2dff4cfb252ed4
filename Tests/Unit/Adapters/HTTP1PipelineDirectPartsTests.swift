@testable import HopGateEdge
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// A public HTTP/1.1 connection as ``HTTP1Pipeline/configure(_:secure:requestHeadTimeout:limits:)``
/// builds it, where ``PublicHTTP1Handler`` and ``WebPartHandler`` pass request and response
/// parts by direct calls: parts arrive and leave as through the pipeline, and after a `101` the
/// parts written with it go out through the bytes handler that replaced the HTTP ones.
@Suite("HTTP/1.1 pipeline, parts passed directly")
struct HTTP1PipelineDirectPartsTests {
    @Test("a request reaches the connection's task and its response goes out; a second one on the same connection too")
    func requestAndResponse() async throws {
        let (channel, web) = try await connection()
        for path in ["/a", "/b"] {
            try await channel.writeInbound(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: example.com\r\n\r\n"))
            guard case .head(let request)? = try await web.next() else {
                Issue.record("no request head")
                return
            }
            #expect(request.path == path)
            #expect(request.authority == "example.com")
            guard case .end? = try await web.next() else {
                Issue.record("no request end")
                return
            }
            try await web.write(contentsOf: [
                .head(HTTPResponse(status: .ok, headerFields: [.contentLength: "2"])), .body(ByteBuffer(string: "ok")), .end(nil),
            ])
            let written = try await output(channel)
            #expect(written.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(written)")
            #expect(written.hasSuffix("\r\n\r\nok"), "\(written)")
        }
        #expect(channel.isActive)
        _ = try await channel.finish()
    }

    @Test("the parts written with a 101 in one call go out after it as raw bytes")
    func upgradeInOneWrite() async throws {
        let (channel, web) = try await connection()
        try await channel.writeInbound(ByteBuffer(string:
            "GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"))
        guard case .head? = try await web.next(), case .end? = try await web.next() else {
            Issue.record("the upgrade request did not come through")
            return
        }
        try await web.write(contentsOf: [
            .head(HTTPResponse(status: .switchingProtocols, headerFields: [.connection: "Upgrade", .upgrade: "websocket"])),
            .body(ByteBuffer(string: "RAW")),
        ])
        let written = try await output(channel)
        #expect(written.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(written)")
        #expect(written.hasSuffix("\r\n\r\nRAW"), "the body after the 101, unframed: \(written)")
        try await channel.writeInbound(ByteBuffer(string: "MORE"))
        guard case .body(let more)? = try await web.next() else {
            Issue.record("raw bytes after the switch did not come through")
            return
        }
        #expect(String(buffer: more) == "MORE")
        _ = try await channel.finish()
    }

    private func connection() async throws -> (NIOAsyncTestingChannel, WebPartChannel) {
        let channel = NIOAsyncTestingChannel()
        let web = try await channel.eventLoop.submit {
            try HTTP1Pipeline.configure(channel, secure: true, requestHeadTimeout: .hours(1), limits: HTTP1RequestLimits())
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        return (channel, web)
    }

    /// The bytes written since the last call.
    private func output(_ channel: NIOAsyncTestingChannel) async throws -> String {
        var text = ""
        while let data = try await channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            text += String(buffer: buffer)
        }
        return text
    }
}
