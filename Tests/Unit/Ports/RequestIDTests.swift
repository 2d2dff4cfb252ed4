import HTTPTypes
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import NIOCore
import Synchronization
import Testing
import NIOPosix

@Suite("Request ids")
struct RequestIDTests {
    @Test(arguments: ["abc", "A-b_c.9", String(repeating: "x", count: 128), "0123456789abcdef"])
    func acceptsSafeIDs(_ id: String) {
        #expect(RequestID.accepting(id) == id)
    }

    @Test(arguments: [
        "", " ", "a b", "<script>alert(1)</script>", "\"quoted\"", "a'b", "a&b", "ü", "a\u{0}b", "line\nbreak",
        String(repeating: "x", count: 129),
    ])
    func replacesUnsafeIDs(_ id: String) {
        let accepted = RequestID.accepting(id)
        #expect(accepted != id)
        #expect(RequestID.isAcceptable(accepted))
    }

    @Test func generatedIDsAreSixteenHexDigitsAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RequestID.generate()
            #expect(id.utf8.count == 16)
            #expect(id.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}

@Suite("Error pages")
struct ErrorPageTests {
    func body(_ page: ErrorPage, accept: String, requestID: String) -> (HTTPResponse, String) {
        let (head, buffer) = page.response(for: [.accept: accept], requestID: requestID)
        return (head, String(buffer: buffer))
    }

    @Test func htmlEscapesWhateverItIsGiven() {
        let (head, html) = body(.unknownHost, accept: "text/html", requestID: #"<img src=x onerror="a('b')">&"#)
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"))
        #expect(head.headerFields[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
    }

    @Test func jsonEscapesWhateverItIsGiven() {
        let (_, json) = body(.noTunnel, accept: "application/json", requestID: "a\"b\\c\u{1}\n")
        #expect(json.contains(#""request_id":"a\"b\\c\u0001\n""#))
    }
}

@Suite("Public request router: request ids")
struct PublicRequestRouterRequestIDTests {
    /// Serves `request` (to an unknown host, so the router answers with its own page) and
    /// returns the response head and body.
    func serve(_ request: HTTPRequest) async throws -> (HTTPResponse, String) {
        let logs = CapturedLogs()
        let administration = DomainAdministration(store: InMemoryDomainStore(), logger: logs.logger())
        let hub = TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: logs.logger())
        let router = PublicRequestRouter(hub: hub, administration: administration, configuration: .init(), timers: MultiThreadedEventLoopGroup.singleton, logger: logs.logger())
        let parts = Mutex<[ExchangeResponsePart]>([])
        try await router.handle(
            request, peer: PeerAddress(address: "192.0.2.7", port: 4000), scheme: "https", requestBody: PartStream { nil },
            response: PartWriter { part in parts.withLock { $0.append(part) } })
        var head: HTTPResponse?
        var body = ByteBuffer()
        for part in parts.withLock({ $0 }) {
            switch part {
            case .head(let response): head = response
            case .body(var chunk): body.writeBuffer(&chunk)
            case .end: break
            }
        }
        return (try #require(head), String(buffer: body))
    }

    func request(id: String?, accept: String = "text/html") -> HTTPRequest {
        var fields: HTTPFields = [.accept: accept]
        if let id { fields[HTTPField.Name("X-Request-Id")!] = id }
        return HTTPRequest(method: .get, scheme: "https", authority: "nobody.example.com", path: "/", headerFields: fields)
    }

    @Test func aSafeClientIDIsKept() async throws {
        let (head, html) = try await serve(request(id: "trace-42.a_b"))
        #expect(head.status == .notFound)
        #expect(html.contains("request trace-42.a_b"))
    }

    @Test func markupInAClientIDNeverReachesThePage() async throws {
        let (_, html) = try await serve(request(id: "<script>alert(1)</script>"))
        #expect(!html.contains("<script>"))
        #expect(!html.contains("alert(1)"), "an unsafe id is replaced, not reflected")
        let (_, json) = try await serve(request(id: #"x","admin":true,"y":""#, accept: "application/json"))
        #expect(!json.contains(#""admin":true"#))
    }
}
