import Crypto
import Foundation
import HopGatePorts
import HopGateTestSupport
import HTTPTypes
import NIOCore
import Testing

/// The local-forwarder contract, run unchanged against every forwarder (``ForwarderKind``).
@Suite("Local forwarders against a real local HTTP service")
struct LocalForwarderTests {
    @Test(arguments: ForwarderKind.allCases)
    func getAndHostHeader(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                let response = CollectedResponse()
                try await forwarder.forward(exchangeHead(.get, "/headers"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: requestParts([]), response: response.writer)
                #expect(response.head?.status == .ok)
                #expect(response.ended)
                let headers = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
                #expect(headers?["Host"] == "app.example.com")
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func streamsALargeUploadWithoutKnownLength(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                var digest = SHA256()
                var chunks: [ByteBuffer] = []
                for index in 0..<64 {
                    let bytes = [UInt8](repeating: UInt8(index), count: 64 * 1024)
                    digest.update(data: bytes)
                    chunks.append(ByteBuffer(bytes: bytes))
                }
                let response = CollectedResponse()
                try await forwarder.forward(exchangeHead(.post, "/sha256"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: requestParts(chunks), response: response.writer)
                #expect(response.head?.status == .ok)
                #expect(response.text == digest.finalize().map { String(format: "%02x", $0) }.joined())
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func streamsAnUploadWithContentLength(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                let bytes = backendPattern(300_000)
                let chunks = stride(from: 0, to: bytes.count, by: 70_000).map { ByteBuffer(bytes: bytes[$0..<min($0 + 70_000, bytes.count)]) }
                var fields = HTTPFields()
                fields[.contentLength] = "\(bytes.count)"
                let response = try await forwardedResponse(forwarder, .post, "/echo", port: port, fields: fields, body: chunks)
                #expect(response.head?.status == .ok)
                #expect(response.body == bytes)
                #expect(response.ended)
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func streamsADownloadInChunksAndStripsHopByHop(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                let response = CollectedResponse()
                try await forwarder.forward(exchangeHead(.get, "/chunked/5"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: requestParts([]), response: response.writer)
                #expect(response.text == (0..<5).map { "chunk \($0)\n" }.joined())
                #expect(response.chunks >= 2)
                #expect(response.head?.headerFields[.transferEncoding] == nil)
                #expect(response.head?.headerFields[.connection] == nil)
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func headAnswerHasNoBody(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                let response = try await forwardedResponse(forwarder, .head, "/bytes/1000", port: port)
                #expect(response.head?.status == .ok)
                #expect(response.head?.headerFields[.contentLength] == "1000")
                #expect(response.body.isEmpty)
                #expect(response.ended)
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func noContentAndNotModifiedHaveNoBody(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                for code in [204, 304] {
                    let response = try await forwardedResponse(forwarder, .get, "/status/\(code)", port: port)
                    #expect(response.head?.status.code == code)
                    #expect(response.body.isEmpty)
                    #expect(response.ended)
                }
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func closingAnswersAndBodiesReadToTheClose(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            try await withTestBackend { port in
                let closing = try await forwardedResponse(forwarder, .get, "/close", port: port)
                #expect(closing.text == "closing")
                #expect(closing.head?.headerFields[.connection] == nil)
                let unframed = try await forwardedResponse(forwarder, .get, "/unframed/100000", port: port)
                #expect(unframed.body == backendPattern(100_000))
                #expect(unframed.ended)
            }
        }
    }

    @Test(arguments: ForwarderKind.allCases)
    func unreachableServiceThrowsBeforeAnyHead(_ kind: ForwarderKind) async throws {
        try await withForwarder(kind) { forwarder in
            let response = CollectedResponse()
            await #expect(throws: (any Error).self) {
                try await forwarder.forward(exchangeHead(.get, "/"), to: LocalTarget(host: "127.0.0.1", port: 1), requestBody: requestParts([]), response: response.writer)
            }
            #expect(response.head == nil)
        }
    }
}
