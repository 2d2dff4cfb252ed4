import Crypto
import Foundation
import HopGateLocalForwarder
import HopGatePorts
import HopGateTestSupport
import HTTPTypes
import NIOCore
import Synchronization
import Testing

/// Collects a response's parts.
private final class Collected: Sendable {
    private let state = Mutex<(head: HTTPResponse?, body: [UInt8], ended: Bool, chunks: Int)>((nil, [], false, 0))
    var writer: PartWriter<ExchangeResponsePart> {
        PartWriter { [self] part in
            state.withLock { state in
                switch part {
                case .head(let head): state.head = head
                case .body(let buffer): state.body += buffer.readableBytesView; state.chunks += 1
                case .end: state.ended = true
                }
            }
        }
    }
    var head: HTTPResponse? { state.withLock { $0.head } }
    var body: [UInt8] { state.withLock { $0.body } }
    var text: String { String(decoding: body, as: UTF8.self) }
    var ended: Bool { state.withLock { $0.ended } }
    var chunks: Int { state.withLock { $0.chunks } }
}

private func parts(_ chunks: [ByteBuffer]) -> PartStream<ExchangeRequestPart> {
    var remaining = chunks.map { ExchangeRequestPart.body($0) } + [.end(nil)]
    return PartStream { remaining.isEmpty ? nil : remaining.removeFirst() }
}

@Suite("HTTPClientLocalForwarder against a real local HTTP service")
struct LocalForwarderTests {
    func head(_ method: HTTPRequest.Method, _ path: String, _ fields: HTTPFields = [:]) -> ExchangeRequestHead {
        ExchangeRequestHead(request: HTTPRequest(method: method, scheme: "https", authority: "app.example.com", path: path, headerFields: fields), requestID: "t")
    }

    @Test func getAndHostHeader() async throws {
        let forwarder = HTTPClientLocalForwarder()
        try await withTestBackend { port in
            let response = Collected()
            try await forwarder.forward(head(.get, "/headers"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: parts([]), response: response.writer)
            #expect(response.head?.status == .ok)
            #expect(response.ended)
            let headers = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
            #expect(headers?["Host"] == "app.example.com")
        }
        try await forwarder.shutdown()
    }

    @Test func streamsALargeUploadWithoutKnownLength() async throws {
        let forwarder = HTTPClientLocalForwarder()
        try await withTestBackend { port in
            var digest = SHA256()
            var chunks: [ByteBuffer] = []
            for index in 0..<64 {
                let bytes = [UInt8](repeating: UInt8(index), count: 64 * 1024)
                digest.update(data: bytes)
                chunks.append(ByteBuffer(bytes: bytes))
            }
            let response = Collected()
            try await forwarder.forward(head(.post, "/sha256"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: parts(chunks), response: response.writer)
            #expect(response.head?.status == .ok)
            #expect(response.text == digest.finalize().map { String(format: "%02x", $0) }.joined())
        }
        try await forwarder.shutdown()
    }

    @Test func streamsADownloadInChunksAndStripsHopByHop() async throws {
        let forwarder = HTTPClientLocalForwarder()
        try await withTestBackend { port in
            let response = Collected()
            try await forwarder.forward(head(.get, "/chunked/5"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: parts([]), response: response.writer)
            #expect(response.text == (0..<5).map { "chunk \($0)\n" }.joined())
            #expect(response.chunks >= 2)
            #expect(response.head?.headerFields[.transferEncoding] == nil)
            #expect(response.head?.headerFields[.connection] == nil)
        }
        try await forwarder.shutdown()
    }

    @Test func unreachableServiceThrowsBeforeAnyHead() async throws {
        let forwarder = HTTPClientLocalForwarder()
        let response = Collected()
        await #expect(throws: (any Error).self) {
            try await forwarder.forward(head(.get, "/"), to: LocalTarget(host: "127.0.0.1", port: 1), requestBody: parts([]), response: response.writer)
        }
        #expect(response.head == nil)
        try await forwarder.shutdown()
    }
}
