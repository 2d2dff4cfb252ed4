import Foundation
import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import Logging
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf
import Synchronization
import Testing

/// The client's reusable Exchange stream as its channel handler serves it: what it sends to
/// open the stream, exchanges one after another, the ordered end, and a server that breaks the
/// protocol.
@Suite("Client Exchange stream handler")
struct ClientExchangeStreamHandlerTests {
    /// Answers each request with `200` and the request's id as body, after `gate` (when given)
    /// opens; records the requests and whether one was cancelled.
    final class Responder: ExchangeHandler {
        let requests = Mutex<[String]>([])
        let cancelled = Atomic(false)
        let gate: AsyncStream<Void>?

        init(gated: Bool = false) {
            if gated {
                let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
                gate = stream
                opener = continuation
            } else {
                gate = nil
                opener = nil
            }
        }

        private let opener: AsyncStream<Void>.Continuation?
        func open() { opener?.yield() }

        func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
            requests.withLock { $0.append(head.requestID) }
            var body = ""
            for try await part in requestBody {
                if case .body(let bytes) = part { body += String(buffer: bytes) }
            }
            if let gate {
                var waiting = gate.makeAsyncIterator()
                _ = await waiting.next()
                if Task.isCancelled {
                    cancelled.store(true, ordering: .relaxed)
                    throw CancellationError()
                }
            }
            try await response.write(.head(HTTPResponse(status: .ok)))
            try await response.write(.body(ByteBuffer(string: head.requestID + body)))
            try await response.write(.end(nil))
        }
    }

    /// What the handler asked the pool's task to open.
    final class OpenedCounts: Sendable {
        let counts = Mutex<[Int]>([])
    }

    /// A stream handler on a testing channel, opened as the connection would open it.
    struct Harness {
        let channel: NIOAsyncTestingChannel
        let tasks = ClientExchangeTasks()
        let opened = OpenedCounts()
        let pool = ClientExchangePool(maximumIdle: 4)

        init(_ responder: Responder) async throws {
            channel = NIOAsyncTestingChannel()
            let opened = self.opened
            let settings = ClientExchangeStreamSettings(
                handler: responder, attach: .with { $0.tunnelID = "tunnel-1"; $0.exchangeToken = Data("token".utf8) }, coalescing: false,
                pool: pool, placement: ClientExchangePlacement(), open: { count in opened.counts.withLock { $0.append(count) } }, logger: Logger(label: "test"))
            let headers = ClientTunnelConnection(scheme: "https", authority: "tunnel.example").exchangeRequestHeaders
            let tasks = self.tasks
            try await channel.pipeline.addHandler(ClientExchangeStreamHandler(settings: settings, requestHeaders: headers, tasks: tasks))
            try await channel.connect(to: .init(ipAddress: "127.0.0.1", port: 443))
        }

        func send(_ messages: Hopgate_Tunnel_V1_ExchangeFromServer..., endStream: Bool = false) async throws {
            var frames = ByteBuffer()
            for message in messages { try GRPCMessageFraming.append(message, to: &frames) }
            try await channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(frames), endStream: endStream)))
        }

        func sendResponseHeaders() async throws {
            try await channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: [":status": "200", "content-type": "application/grpc"])))
        }

        /// The next frame the handler wrote, waiting for it.
        func nextFrame() async throws -> HTTP2Frame.FramePayload {
            try await channel.waitForOutboundWrite(as: HTTP2Frame.FramePayload.self)
        }

        /// The messages of the next DATA frame, and whether it ended the stream.
        func nextMessages() async throws -> (messages: [Hopgate_Tunnel_V1_ExchangeFromClient], endStream: Bool) {
            guard case .data(let frame) = try await nextFrame(), case .byteBuffer(let bytes) = frame.data else {
                Issue.record("expected a DATA frame")
                return ([], false)
            }
            var deframer = GRPCMessageDeframer()
            deframer.append(bytes)
            var messages: [Hopgate_Tunnel_V1_ExchangeFromClient] = []
            while let message = try deframer.next() {
                messages.append(try Hopgate_Tunnel_V1_ExchangeFromClient(serializedBytes: Array(message.readableBytesView)))
            }
            return (messages, frame.endStream)
        }

        /// A whole response: its messages until its End.
        func nextResponse() async throws -> [Hopgate_Tunnel_V1_ExchangeFromClient] {
            var messages: [Hopgate_Tunnel_V1_ExchangeFromClient] = []
            while true {
                let (batch, _) = try await nextMessages()
                messages += batch
                if case .end? = messages.last?.kind { return messages }
                if batch.isEmpty { return messages }
            }
        }
    }

    static func head(_ id: String, endInHead: Bool = true) -> Hopgate_Tunnel_V1_ExchangeFromServer {
        .with {
            $0.head = .with {
                $0.requestID = id
                $0.method = "GET"
                $0.scheme = "https"
                $0.authority = "app.example"
                $0.path = "/"
                if endInHead { $0.end = Hopgate_Tunnel_V1_End() }
            }
        }
    }

    static let cancel = Hopgate_Tunnel_V1_ExchangeFromServer.with { $0.cancel = .with { $0.reason = "test" } }

    static func bodyText(of response: [Hopgate_Tunnel_V1_ExchangeFromClient]) -> String {
        response.compactMap { message -> String? in
            if case .body(let chunk) = message.kind { return String(decoding: chunk.data, as: UTF8.self) }
            return nil
        }.joined()
    }

    @Test("it opens the stream with gRPC request headers for the Exchange method, then the Attach")
    func opening() async throws {
        let harness = try await Harness(Responder())
        guard case .headers(let headers) = try await harness.nextFrame() else { Issue.record("expected HEADERS first"); return }
        #expect(headers.headers.first(name: ":path") == "/hopgate.tunnel.v1.Tunnel/Exchange")
        #expect(headers.headers.first(name: ":method") == "POST")
        #expect(headers.headers.first(name: "content-type") == "application/grpc")
        #expect(headers.headers.first(name: "te") == "trailers")
        #expect(!headers.endStream)
        let (messages, endStream) = try await harness.nextMessages()
        #expect(messages.map(\.attach.exchangeToken) == [Data("token".utf8)])
        #expect(!endStream)
    }

    @Test("requests are served one after another on the stream; a Cancel of the idle stream half-closes it, with no Failure")
    func reuseThenRetire() async throws {
        let responder = Responder()
        let harness = try await Harness(responder)
        _ = try await harness.nextFrame()
        _ = try await harness.nextMessages()
        try await harness.sendResponseHeaders()
        for id in ["r1", "r2", "r3"] {
            try await harness.send(Self.head(id))
            let response = try await harness.nextResponse()
            #expect(response.first?.head.status == 200)
            #expect(Self.bodyText(of: response) == id)
        }
        #expect(responder.requests.withLock { $0 } == ["r1", "r2", "r3"])
        // Each request taken asked the pool for streams (its count may be zero).
        #expect(harness.opened.counts.withLock { $0.count } == 3)
        try await harness.send(Self.cancel)
        let (messages, endStream) = try await harness.nextMessages()
        #expect(messages.isEmpty)
        #expect(endStream)
        await harness.tasks.lastStarted?.value
    }

    @Test("a request body reaches the exchange, and the next head waits until the exchange is done")
    func bodyAndOrder() async throws {
        let responder = Responder(gated: true)
        let harness = try await Harness(responder)
        _ = try await harness.nextFrame()
        _ = try await harness.nextMessages()
        try await harness.sendResponseHeaders()
        let chunk = Hopgate_Tunnel_V1_ExchangeFromServer.with { $0.body = .with { $0.data = Data("+body".utf8) } }
        let end = Hopgate_Tunnel_V1_ExchangeFromServer.with { $0.end = Hopgate_Tunnel_V1_End() }
        // The second head comes in the same frame, while the first exchange still waits.
        try await harness.send(Self.head("r1", endInHead: false), chunk, end, Self.head("r2"))
        responder.open()
        let first = try await harness.nextResponse()
        #expect(Self.bodyText(of: first) == "r1+body")
        responder.open()
        let second = try await harness.nextResponse()
        #expect(Self.bodyText(of: second) == "r2")
        #expect(responder.requests.withLock { $0 } == ["r1", "r2"])
    }

    @Test("a message that is not valid protobuf ends this side with a Failure that names the problem")
    func malformedMessage() async throws {
        let harness = try await Harness(Responder())
        _ = try await harness.nextFrame()
        _ = try await harness.nextMessages()
        try await harness.sendResponseHeaders()
        var garbage = ByteBuffer()
        garbage.writeInteger(UInt8(0))
        garbage.writeInteger(UInt32(3))
        garbage.writeBytes([0xFF, 0xFF, 0xFF])
        try await harness.channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(garbage))))
        let (messages, endStream) = try await harness.nextMessages()
        #expect(endStream)
        #expect(messages.count == 1)
        #expect(messages.first?.failure.message.contains("not valid protobuf") == true)
    }

    @Test("the server's end cancels the running exchange, and this side ends without a reset")
    func serverEndCancels() async throws {
        let responder = Responder(gated: true)
        let harness = try await Harness(responder)
        _ = try await harness.nextFrame()
        _ = try await harness.nextMessages()
        try await harness.sendResponseHeaders()
        try await harness.send(Self.head("r1"))
        try await harness.channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: ["grpc-status": "0"], endStream: true)))
        let (messages, endStream) = try await harness.nextMessages()
        #expect(messages.isEmpty)
        #expect(endStream)
        responder.open()
        await harness.tasks.lastStarted?.value
        let cancelled = responder.cancelled.load(ordering: .relaxed)
        #expect(cancelled)
    }
}
