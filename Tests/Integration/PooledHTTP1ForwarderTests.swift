import HopGateLocalForwarder
import HopGatePorts
import HopGateTestSupport
import HTTPTypes
import NIOCore
import Testing

/// What the pooled forwarder adds to the contract: which connection each exchange runs on. The
/// test backend numbers its accepted connections (`/connection`).
@Suite("PooledHTTP1Forwarder connection reuse")
struct PooledHTTP1ForwarderTests {
    /// The body of a bodiless request to `path`, after checking that it was answered whole.
    private func text(_ forwarder: PooledHTTP1Forwarder, _ path: String, method: HTTPRequest.Method = .get, port: Int) async throws -> String {
        let response = try await forwardedResponse(forwarder, method, path, port: port)
        #expect(response.ended)
        return response.text
    }

    private func withPooledForwarder(_ body: (PooledHTTP1Forwarder, _ port: Int) async throws -> Void) async throws {
        let forwarder = PooledHTTP1Forwarder()
        do {
            try await withTestBackend { port in try await body(forwarder, port) }
        } catch {
            try await forwarder.shutdown()
            throw error
        }
        try await forwarder.shutdown()
    }

    @Test func sequentialExchangesReuseOneConnection() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            _ = try await text(forwarder, "/bytes/100", method: .head, port: port)
            _ = try await text(forwarder, "/status/204", port: port)
            _ = try await text(forwarder, "/status/304", port: port)
            _ = try await text(forwarder, "/chunked/2", port: port)
            let last = try await text(forwarder, "/connection", port: port)
            #expect(first == "1")
            #expect(last == first)
        }
    }

    @Test func uploadsReuseTheirConnection() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            let response = try await forwardedResponse(
                forwarder, .post, "/echo", port: port, body: [ByteBuffer(string: "one "), ByteBuffer(string: "two")])
            #expect(response.text == "one two")
            #expect(try await text(forwarder, "/connection", port: port) == first)
        }
    }

    @Test func connectionCloseFromTheServiceIsHonoured() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            #expect(try await text(forwarder, "/close", port: port) == "closing")
            #expect(try await text(forwarder, "/connection", port: port) != first)
        }
    }

    @Test func aBodyReadToTheCloseEndsItsConnection() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            let unframed = try await forwardedResponse(forwarder, .get, "/unframed/5000", port: port)
            #expect(unframed.body == backendPattern(5000))
            #expect(try await text(forwarder, "/connection", port: port) != first)
        }
    }

    @Test func aStalePooledConnectionIsRetriedForGET() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            #expect(try await text(forwarder, "/drop-next", port: port) == "armed")
            // The pooled connection closes without answering: the GET goes out again on a new one.
            let second = try await text(forwarder, "/connection", port: port)
            #expect(!second.isEmpty)
            #expect(second != first)
        }
    }

    @Test func aStalePooledConnectionIsNotRetriedForPOST() async throws {
        try await withPooledForwarder { forwarder, port in
            let armed = try await text(forwarder, "/drop-next", port: port)
            #expect(armed == "armed")
            let response = CollectedResponse()
            await #expect(throws: (any Error).self) {
                try await forwarder.forward(exchangeHead(.post, "/echo"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: requestParts([]), response: response.writer)
            }
            #expect(response.head == nil)
        }
    }

    @Test func aCancelledExchangeClosesItsConnection() async throws {
        try await withPooledForwarder { forwarder, port in
            let first = try await text(forwarder, "/connection", port: port)
            let (heads, headCame) = AsyncStream.makeStream(of: Void.self)
            let writer = PartWriter<ExchangeResponsePart> { part in
                if case .head = part { headCame.yield() }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // 100 chunks, one every 50 ms: still streaming when it is cancelled.
                    try? await forwarder.forward(exchangeHead(.get, "/chunked/100"), to: LocalTarget(host: "127.0.0.1", port: port), requestBody: requestParts([]), response: writer)
                }
                for await _ in heads { break }
                group.cancelAll()
            }
            #expect(try await text(forwarder, "/connection", port: port) != first)
        }
    }
}
