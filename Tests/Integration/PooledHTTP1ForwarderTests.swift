import HopGateLocalForwarder
import HopGatePorts
import HopGateTestSupport
import HTTPTypes
import NIOCore
import NIOPosix
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

    /// The client's exchanges run on event loops: each takes an idle connection of its own loop
    /// before the most recently used one, so its reads and writes stay on one thread.
    @Test func anExchangeOnAnEventLoopTakesThatLoopsIdleConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let (first, second) = (group.next(), group.next())
        #expect(first !== second)
        try await withPooledForwarder { forwarder, port in
            func connection(on loop: any EventLoop, _ path: String = "/connection") async throws -> String {
                try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                    try await text(forwarder, path, port: port)
                }
            }
            // Two exchanges at once open a connection each, the second loop's ending first: the
            // first loop's is then the most recently released (the one a plain stack gives out).
            async let onFirst = connection(on: first, "/slow/3000")
            try await Task.sleep(for: .milliseconds(100))
            async let onSecond = connection(on: second, "/slow/300")
            #expect(try await [onFirst, onSecond] == ["slow", "slow"])
            let secondLoops = try await connection(on: second)
            let firstLoops = try await connection(on: first)
            #expect(secondLoops != firstLoops, "each loop takes its own connection")
            #expect(try await connection(on: second) == secondLoops)
            #expect(try await connection(on: first) == firstLoops)
            // With none of its own loop idle, an exchange takes another loop's connection.
            #expect(["1", "2"].contains(try await text(forwarder, "/connection", port: port)))
        }
        try await group.shutdownGracefully()
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
