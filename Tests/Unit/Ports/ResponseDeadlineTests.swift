import HTTPTypes
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A tunnel whose service reads the whole request body before it answers, or never answers.
private final class UploadConnection: TunnelConnection {
    let id: TunnelID
    let answers: Bool
    /// The longest time the exchange went without the tunnel taking a request part or giving
    /// its response head (from the exchange's start): the silence the deadline measures.
    private let longestSilence = Mutex(Duration.zero)
    var silence: Duration { longestSilence.withLock { $0 } }
    /// When the request last moved, from the connection's creation — before the router starts
    /// the exchange, so that a start starved for seconds counts as silence too (the deadline
    /// counts from the exchange's start, which comes later).
    private let lastMoved = Mutex(ContinuousClock.now)

    init(id: TunnelID, answers: Bool) {
        self.id = id
        self.answers = answers
    }

    /// What the response side waits for: the request's end, or the router's interruption.
    private enum Event: Sendable {
        case requestEnded
        case interrupted(any Error)
    }

    nonisolated(nonsending) func exchange<Result: Sendable>(
        _ head: ExchangeRequestHead, interruption: ExchangeInterruption?,
        _ body: nonisolated(nonsending) (PartWriter<ExchangeRequestPart>, PartStream<ExchangeResponsePart>) async throws -> Result
    ) async throws -> Result {
        let (events, eventSink) = AsyncStream.makeStream(of: Event.self)
        // As a real transport: interrupting fails the wait for the response.
        if let error = interruption?.onInterrupt({ eventSink.yield(.interrupted($0)) }) { eventSink.yield(.interrupted(error)) }
        defer { interruption?.onInterrupt(nil) }
        let received = Mutex(0)
        let requestBody = PartWriter<ExchangeRequestPart> { part in
            let now = ContinuousClock.now
            let quiet = self.lastMoved.withLock { last in
                defer { last = now }
                return now - last
            }
            self.longestSilence.withLock { $0 = max($0, quiet) }
            switch part {
            case .body(let buffer): received.withLock { $0 += buffer.readableBytes }
            case .end: eventSink.yield(.requestEnded)
            }
        }
        var answered = false
        let answers = self.answers
        let response = PartStream<ExchangeResponsePart> {
            if answered { return nil }
            for await event in events {
                switch event {
                case .interrupted(let error):
                    throw error
                case .requestEnded:
                    guard answers else { continue }  // silent until the deadline interrupts
                    answered = true
                    // The wait from the request's end to this head counts as silence too.
                    let quiet = ContinuousClock.now - self.lastMoved.withLock { $0 }
                    self.longestSilence.withLock { $0 = max($0, quiet) }
                    return .head(HTTPResponse(status: .ok, headerFields: [.contentLength: "0", HTTPField.Name("X-Received")!: "\(received.withLock { $0 })"]))
                }
            }
            try Task.checkCancellation()
            return nil
        }
        return try await body(requestBody, response)
    }

    func drain() async {}
    func close() async {}
}

/// The response timeout measures silence: an upload that keeps moving for longer than the
/// timeout is answered, and a service that stays silent after the request is through gets 504.
@Suite("Response deadline")
struct ResponseDeadlineTests {
    let logs = CapturedLogs()
    let administration: DomainAdministration
    let hub: TunnelHub
    let key: String

    init() async throws {
        administration = DomainAdministration(store: InMemoryDomainStore(), logger: logs.logger())
        key = try await administration.register(domain: "up.example.com", memo: nil).clientAPIKey.secret
        hub = TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: logs.logger())
    }

    /// Uploads `parts` parts of 1 KiB, `gap` apart, with a 4 s response timeout (long: the suite's
/// parallel tests can starve this one's sleeps for seconds on a two-core machine).
    func upload(
        parts count: Int, gap: Duration, serviceAnswers: Bool, through router: PublicRequestRouter? = nil
    ) async throws -> (status: Int, received: String?, silence: Duration) {
        let welcome = try await hub.admit(
            TunnelHello(domain: "up.example.com", clientAPIKey: key, clientName: "c", clientVersion: "1"), peer: .unknown)
        let tunnel = UploadConnection(id: welcome.tunnelID, answers: serviceAnswers)
        await hub.tunnelOpened(tunnel)
        let router = router ?? makeRouter(timeout: .seconds(4))
        var sent = 0
        let head = Mutex<HTTPResponse?>(nil)
        try await router.handle(
            HTTPRequest(method: .put, scheme: "https", authority: "up.example.com", path: "/upload"), peer: PeerAddress(address: "192.0.2.7", port: 1),
            scheme: "https",
            requestBody: PartStream {
                guard sent < count else {
                    if sent == count { sent += 1; return .end(nil) }
                    return nil
                }
                if sent > 0 { try await Task.sleep(for: gap) }
                sent += 1
                return .body(ByteBuffer(repeating: 1, count: 1024))
            },
            response: PartWriter { part in
                if case .head(let response) = part { head.withLock { $0 = response } }
            })
        let response = try #require(head.withLock { $0 })
        return (response.status.code, response.headerFields[HTTPField.Name("X-Received")!], tunnel.silence)
    }

    func makeRouter(timeout: Duration) -> PublicRequestRouter {
        PublicRequestRouter(
            hub: hub, administration: administration, configuration: .init(responseTimeout: timeout),
            timers: MultiThreadedEventLoopGroup.singleton, logger: logs.logger())
    }

    @Test func anUploadThatKeepsMovingPastTheTimeoutIsAnswered() async throws {
        // 50 parts 100 ms apart: the upload lasts at least 4.9 s, past the 4 s timeout. The suite's
        // parallel tests can starve this one for seconds on two cores, so the verdict follows the
        // silence the tunnel really saw: under 3.5 s it must be answered, over 4.5 s it must be
        // 504 (the deadline did its job); in between either is right.
        let (status, received, silence) = try await upload(parts: 50, gap: .milliseconds(100), serviceAnswers: true)
        if silence < .milliseconds(3500) {
            #expect(status == 200, "longest silence \(silence)")
            #expect(received == "\(50 * 1024)")
        } else if silence > .milliseconds(4500) {
            #expect(status == 504, "longest silence \(silence)")
        }
    }

    @Test func aServiceSilentAfterTheRequestGets504() async throws {
        // The service would stay silent for 30 s: the 504 can only come from the deadline.
        let (status, _, _) = try await upload(parts: 2, gap: .milliseconds(10), serviceAnswers: false)
        #expect(status == 504)
    }

    @Test func deadlinesStillFireAfterAQuietSpell() async throws {
        // One sweep checks every exchange's deadline and stops when none is watched; the next
        // exchange must start it again. A 200 ms timeout sweeps every 10 ms, so half a second
        // between the two requests leaves the sweep stopped.
        let router = makeRouter(timeout: .milliseconds(200))
        let first = try await upload(parts: 0, gap: .zero, serviceAnswers: false, through: router)
        #expect(first.status == 504)
        try await Task.sleep(for: .milliseconds(500))
        let second = try await upload(parts: 0, gap: .zero, serviceAnswers: false, through: router)
        #expect(second.status == 504)
    }
}
