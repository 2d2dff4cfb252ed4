import Crypto
import Foundation
import HTTPTypes
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import NIOCore
import Synchronization
import Testing

/// The tunnel transport contract, run unchanged against every transport.
@Suite("Tunnel transport contract")
struct TunnelTransportContract {
    static let domain = "tunnel.example.com"

    /// Runs a client with `handler` until `body` returns.
    func withClient<R: Sendable>(
        _ harness: TunnelTransportHarness, key: ClientAPIKey, handler: any ExchangeHandler,
        faults: TunnelTransportFaults = .init(), _ body: @Sendable () async throws -> R
    ) async throws -> R {
        let connector = harness.connector(faults: faults)
        let tunnels = harness.hub.tunnelCount
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                _ = try await connector.run(
                    hello: TunnelHello(domain: Self.domain, clientAPIKey: key.secret, clientName: "contract", clientVersion: "1"),
                    handler: handler, onWelcome: { _ in })
                return nil
            }
            defer { group.cancelAll() }
            for _ in 0..<500 where harness.hub.tunnelCount == tunnels { try await Task.sleep(for: .milliseconds(10)) }
            #expect(harness.hub.tunnelCount == tunnels + 1, "the tunnel did not open")
            return try await body()
        }
    }

    static func request(_ path: String, method: HTTPRequest.Method = .get) -> ExchangeRequestHead {
        ExchangeRequestHead(request: HTTPRequest(method: method, scheme: "https", authority: domain, path: path), requestID: path)
    }

    func connection(_ harness: TunnelTransportHarness) throws -> any TunnelConnection {
        try #require(harness.hub.connection(for: try DomainName(parsing: Self.domain)))
    }

    @Test("a hello with the right key is welcomed; wrong, malformed or unknown ones are refused", arguments: TunnelTransportKind.allCases)
    func handshakes(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let welcomed = WelcomeBox()
            let connector = harness.connector()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await connector.run(
                        hello: TunnelHello(domain: "TUNNEL.example.com.", clientAPIKey: key.secret, clientName: "c", clientVersion: "1"),
                        handler: EchoHandler(name: "a"), onWelcome: { welcome in welcomed.set(welcome) })
                }
                for _ in 0..<500 where welcomed.value == nil { try await Task.sleep(for: .milliseconds(10)) }
                #expect(welcomed.value?.domain.value == Self.domain)
                #expect(harness.hub.hasTunnel(for: try DomainName(parsing: Self.domain)))
                group.cancelAll()
            }
            for (hello, code) in [
                (TunnelHello(domain: Self.domain, clientAPIKey: ClientAPIKey.generate().secret, clientName: "c", clientVersion: "1"), TunnelRefusal.Code.permissionDenied),
                (TunnelHello(domain: "unknown.example.com", clientAPIKey: key.secret, clientName: "c", clientVersion: "1"), .permissionDenied),
                (TunnelHello(domain: Self.domain, clientAPIKey: "short", clientName: "c", clientVersion: "1"), .unauthenticated),
                (TunnelHello(domain: "not a domain", clientAPIKey: key.secret, clientName: "c", clientVersion: "1"), .invalidHello),
            ] {
                let refusal = await #expect(throws: TunnelRefusal.self) {
                    _ = try await harness.connector().run(hello: hello, handler: EchoHandler(name: "x"), onWelcome: { _ in })
                }
                #expect(refusal?.code == code, "\(hello.domain)")
            }
        }
    }

    @Test("500 concurrent exchanges are each answered correctly", arguments: TunnelTransportKind.allCases)
    func concurrentExchanges(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            try await withClient(harness, key: key, handler: EchoHandler(name: "a")) {
                let connection = try connection(harness)
                let answers = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<500 {
                        group.addTask {
                            let text = try await connection.exchange(Self.request("/item/\(index)", method: .post)) { body, response in
                                try await body.write(.body(ByteBuffer(string: "payload-\(index)")))
                                try await body.write(.end(nil))
                                return try await collectText(response)
                            }
                            return text == "a /item/\(index) payload-\(index)"
                        }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(answers == 500)
            }
        }
    }

    @Test("requests marked bodyless (a transport may send the head with the end) are answered, in a row and concurrently", arguments: TunnelTransportKind.allCases)
    func bodylessExchanges(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            try await withClient(harness, key: key, handler: EchoHandler(name: "b")) {
                let connection = try connection(harness)
                func get(_ index: Int) async throws -> Bool {
                    var head = Self.request("/bodyless/\(index)")
                    head.bodyless = true
                    let text = try await connection.exchange(head) { body, response in
                        try await body.write(.end(nil))
                        return try await collectText(response)
                    }
                    return text == "b /bodyless/\(index)"
                }
                // One after another: a stream that carried one is fit for the next.
                for index in 0..<50 { #expect(try await get(index), "exchange \(index)") }
                let answers = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 50..<250 { group.addTask { try await get(index) } }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(answers == 200)
            }
        }
    }

    @Test("64 MiB each way arrive intact, with the producer held back by the consumer", arguments: TunnelTransportKind.allCases)
    func largeBodies(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let meter = FlowMeter()
            try await withClient(harness, key: key, handler: BulkHandler(meter: meter)) {
                let connection = try connection(harness)
                let size = 64 << 20
                // Upload: the client hashes what it receives.
                var expected = SHA256()
                let uploaded = try await connection.exchange(Self.request("/upload", method: .put)) { body, response in
                    var sent = 0
                    while sent < size {
                        let chunk = BulkHandler.block(sent / (64 << 10))
                        expected.update(data: chunk)
                        try await body.write(.body(ByteBuffer(bytes: chunk)))
                        sent += chunk.count
                    }
                    try await body.write(.end(nil))
                    return try await collectText(response)
                }
                #expect(uploaded == hex(expected.finalize()))

                // Download: the server side reads slowly; the client must not run far ahead.
                let downloaded = try await connection.exchange(Self.request("/download/\(size)")) { body, response in
                    try await body.write(.end(nil))
                    var digest = SHA256()
                    var received = 0
                    for try await part in response {
                        guard case .body(let buffer) = part else { continue }
                        digest.update(data: Array(buffer.readableBytesView))
                        received += buffer.readableBytes
                        meter.consumed(buffer.readableBytes)
                        // A long pause after the first part lets a producer without
                        // back-pressure run far ahead; slow reading afterwards keeps the window
                        // closing and opening.
                        if received == buffer.readableBytes { try await Task.sleep(for: .milliseconds(300)) }
                        if received < 4 << 20 { try await Task.sleep(for: .milliseconds(2)) }
                    }
                    return hex(digest.finalize())
                }
                #expect(downloaded == hex(SHA256.hash(data: BulkHandler.pattern(size))))
                // What may be in flight: the tunnel's HTTP/2 windows (1 MiB) plus the buffers
                // between the handler and the stream — typically 4–5 MiB, but up to ~21 MiB seen
                // under ASan on two busy cores, where the writer learns late that the stream stopped
                // being writable. Without back-pressure the producer would be all 64 MiB ahead.
                #expect(meter.maximumAhead < 32 << 20, "the producer ran \(meter.maximumAhead) bytes ahead of the consumer")
            }
        }
    }

    @Test("cancelling on the server cancels the client's handler; a failing handler fails the exchange", arguments: TunnelTransportKind.allCases)
    func cancellation(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let handler = CancellableHandler()
            try await withClient(harness, key: key, handler: handler) {
                let connection = try connection(harness)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        _ = try await connection.exchange(Self.request("/hang")) { body, response in
                            try await collectText(response)
                        }
                    }
                    for _ in 0..<200 where !handler.started { try await Task.sleep(for: .milliseconds(10)) }
                    #expect(handler.started)
                    group.cancelAll()
                    _ = try? await group.next()
                }
                for _ in 0..<300 where !handler.cancelled { try await Task.sleep(for: .milliseconds(10)) }
                #expect(handler.cancelled, "the client's handler was not cancelled")

                let failure = await #expect(throws: TunnelExchangeError.self) {
                    _ = try await connection.exchange(Self.request("/fail")) { body, response in
                        try await body.write(.end(nil))
                        return try await collectText(response)
                    }
                }
                #expect(failure?.code == .upstreamFailed)
            }
        }
    }

    @Test("an interruption from outside the exchange's task fails it and stops the client's handler; an interrupted one fails at once; the tunnel serves on", arguments: TunnelTransportKind.allCases)
    func interruption(kind: TunnelTransportKind) async throws {
        struct Stopped: Error {}
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let handler = CancellableHandler()
            try await withClient(harness, key: key, handler: handler) {
                let connection = try connection(harness)
                let interruption = ExchangeInterruption()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for _ in 0..<200 where !handler.started { try await Task.sleep(for: .milliseconds(10)) }
                        interruption.interrupt(with: Stopped())
                    }
                    // Nothing cancels this task: only the interruption can end the wait for a
                    // response that never comes.
                    await #expect(throws: (any Error).self) {
                        _ = try await connection.exchange(Self.request("/hang"), interruption: interruption) { body, response in
                            try await collectText(response)
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(handler.started)
                #expect(interruption.error is Stopped)
                for _ in 0..<300 where !handler.cancelled { try await Task.sleep(for: .milliseconds(10)) }
                #expect(handler.cancelled, "the client's handler was not stopped")
                await #expect(throws: (any Error).self) {
                    _ = try await connection.exchange(Self.request("/echo"), interruption: interruption) { body, response in
                        try await body.write(.end(nil))
                        return try await collectText(response)
                    }
                }
                // The tunnel serves on: this handler's failure comes back as the service's.
                let failure = await #expect(throws: TunnelExchangeError.self) {
                    _ = try await connection.exchange(Self.request("/fail")) { body, response in
                        try await body.write(.end(nil))
                        return try await collectText(response)
                    }
                }
                #expect(failure?.code == .upstreamFailed)
            }
        }
    }

    /// HTTP/2 stacks close a connection that resets more than ~200 streams in 30 s (rapid-reset
    /// defence), so a transport that resets a stream per cancelled exchange lets any public
    /// client that aborts downloads take the whole tunnel down.
    @Test("hundreds of exchanges abandoned by the public side mid-response stop their handlers and leave the tunnel up", arguments: TunnelTransportKind.allCases)
    func abandonedExchangesKeepTheTunnel(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let handler = EndlessHandler()
            try await withClient(harness, key: key, handler: handler) {
                let first = try connection(harness)
                let abandoned = 250
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<abandoned {
                        if index >= 16 { try await group.next() }
                        group.addTask {
                            // The transport may wrap the error; what matters is that the exchange failed.
                            var failed = false
                            do {
                                _ = try await first.exchange(Self.request("/endless/\(index)")) { body, response in
                                    try await body.write(.end(nil))
                                    for try await part in response { if case .body = part { throw PublicClientGone() } }
                                }
                            } catch {
                                failed = true
                            }
                            #expect(failed, "exchange \(index) was not abandoned")
                        }
                    }
                    try await group.waitForAll()
                }
                for _ in 0..<1000 where handler.stopped < abandoned { try await Task.sleep(for: .milliseconds(10)) }
                #expect(handler.stopped == abandoned, "the client's handlers did not all stop")
                let answer = try await first.exchange(Self.request("/small")) { body, response in
                    try await body.write(.end(nil))
                    return try await collectText(response)
                }
                #expect(answer == "small")
                #expect(try connection(harness).id == first.id)
                #expect(harness.closes.reasons.isEmpty, "the tunnel closed: \(harness.closes.reasons)")
            }
        }
    }

    @Test("exchanges whose callers are gone before they start do not use up the client's pool of streams", arguments: TunnelTransportKind.allCases)
    func exchangesCancelledBeforeTheyStart(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            try await withClient(harness, key: key, handler: EchoHandler(name: "a")) {
                let tunnel = try connection(harness)
                // Far more than the pool (16 streams): each caller is cancelled before it starts.
                await withTaskGroup(of: Void.self) { group in
                    group.cancelAll()
                    for index in 0..<100 {
                        group.addTask {
                            _ = try? await tunnel.exchange(Self.request("/gone/\(index)")) { body, response in
                                try await body.write(.end(nil))
                                return try await collectText(response)
                            }
                        }
                    }
                }
                let answer = try await withThrowingTaskGroup(of: String?.self) { group in
                    group.addTask {
                        try await tunnel.exchange(Self.request("/after")) { body, response in
                            try await body.write(.end(nil))
                            return try await collectText(response)
                        }
                    }
                    group.addTask { try await Task.sleep(for: .seconds(10)); return nil }
                    defer { group.cancelAll() }
                    return try await group.next() ?? nil
                }
                #expect(answer == "a /after", "no stream was free for a new exchange")
            }
        }
    }
}

// MARK: Handlers used by the contract

/// Answers "NAME PATH BODY".
struct EchoHandler: ExchangeHandler {
    let name: String
    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        var body = ""
        for try await part in requestBody { if case .body(let buffer) = part { body += String(buffer: buffer) } }
        try await response.write(.head(HTTPResponse(status: .ok)))
        try await response.write(.body(ByteBuffer(string: "\(name) \(head.request.path ?? "")\(body.isEmpty ? "" : " " + body)")))
        try await response.write(.end(nil))
    }
}

/// PUT /upload → SHA-256 of the body; GET /download/N → N bytes of a fixed pattern, metered.
struct BulkHandler: ExchangeHandler {
    let meter: FlowMeter
    /// A 64 KiB block of random bytes, made once.
    static let randomBlock: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<(64 << 10)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// Block `index` of a body: the random block stamped with its index, so blocks differ.
    static func block(_ index: Int) -> [UInt8] {
        var block = randomBlock
        withUnsafeBytes(of: UInt64(index).littleEndian) { stamp in
            for offset in 0..<8 { block[offset] = stamp[offset] }
        }
        return block
    }

    /// The body of `GET /download/SIZE` (SIZE a multiple of 64 KiB).
    static func pattern(_ size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        for index in 0..<(size / (64 << 10)) { bytes += block(index) }
        return bytes
    }

    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        let path = head.request.path ?? ""
        if path == "/upload" {
            var digest = SHA256()
            for try await part in requestBody { if case .body(let buffer) = part { digest.update(data: Array(buffer.readableBytesView)) } }
            try await response.write(.head(HTTPResponse(status: .ok)))
            try await response.write(.body(ByteBuffer(string: hex(digest.finalize()))))
            try await response.write(.end(nil))
            return
        }
        for try await _ in requestBody {}
        let size = Int(path.split(separator: "/").last ?? "0") ?? 0
        try await response.write(.head(HTTPResponse(status: .ok)))
        for index in 0..<(size / (64 << 10)) {
            meter.produced(64 << 10)
            try await response.write(.body(ByteBuffer(bytes: Self.block(index))))
        }
        try await response.write(.end(nil))
    }
}

/// Waits for ever after starting; records whether it was cancelled. GET /fail throws.
final class CancellableHandler: ExchangeHandler {
    private let state = Mutex((started: false, cancelled: false))
    var started: Bool { state.withLock { $0.started } }
    var cancelled: Bool { state.withLock { $0.cancelled } }

    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        if head.request.path == "/fail" { throw CancellableHandlerFailure() }
        state.withLock { $0.started = true }
        do {
            try await Task.sleep(for: .seconds(60))
        } catch {
            state.withLock { $0.cancelled = true }
            throw error
        }
    }
}

struct CancellableHandlerFailure: Error {}

/// The public side of an exchange going away (its client disconnected).
struct PublicClientGone: Error {}

/// GET /endless/… streams a 16 KiB chunk every 5 ms until it is stopped, and counts the stops; any other path
/// answers "small".
final class EndlessHandler: ExchangeHandler {
    private let stops = Mutex(0)
    var stopped: Int { stops.withLock { $0 } }

    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        for try await _ in requestBody {}
        try await response.write(.head(HTTPResponse(status: .ok)))
        guard head.request.path?.hasPrefix("/endless/") == true else {
            try await response.write(.body(ByteBuffer(string: "small")))
            try await response.write(.end(nil))
            return
        }
        let chunk = ByteBuffer(repeating: 0x61, count: 16 << 10)
        do {
            while true {
                try await response.write(.body(chunk))
                try await Task.sleep(for: .milliseconds(5))
            }
        } catch {
            stops.withLock { $0 += 1 }
            throw error
        }
    }
}

/// Answers "NAME PATH" once the gate opens.
struct GatedHandler: ExchangeHandler {
    let name: String
    let gate: Gate
    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {
        for try await _ in requestBody {}
        if head.request.path == "/in-flight" { try await gate.wait() }
        try await response.write(.head(HTTPResponse(status: .ok)))
        try await response.write(.body(ByteBuffer(string: "\(name) \(head.request.path ?? "")")))
        try await response.write(.end(nil))
    }
}

/// A one-shot gate handlers wait on.
final class Gate: Sendable {
    private let state = Mutex((open: false, waiting: 0))
    var waiting: Int { state.withLock { $0.waiting } }
    func open() { state.withLock { $0.open = true } }
    func wait() async throws {
        state.withLock { $0.waiting += 1 }
        while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(5)) }
    }
}

/// How far a producer ran ahead of its consumer, in bytes.
final class FlowMeter: Sendable {
    private let state = Mutex((produced: 0, consumed: 0, maximumAhead: 0))
    var maximumAhead: Int { state.withLock { $0.maximumAhead } }
    func produced(_ count: Int) {
        state.withLock { state in
            state.produced += count
            state.maximumAhead = max(state.maximumAhead, state.produced - state.consumed)
        }
    }
    func consumed(_ count: Int) { state.withLock { $0.consumed += count } }
}

nonisolated(nonsending) func collectText(_ response: PartStream<ExchangeResponsePart>) async throws -> String {
    var text = ""
    for try await part in response { if case .body(let buffer) = part { text += String(buffer: buffer) } }
    return text
}

func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }

/// The welcome a client received.
final class WelcomeBox: Sendable {
    private let stored = Mutex<TunnelWelcome?>(nil)
    var value: TunnelWelcome? { stored.withLock { $0 } }
    func set(_ welcome: TunnelWelcome) { stored.withLock { $0 = welcome } }
}
