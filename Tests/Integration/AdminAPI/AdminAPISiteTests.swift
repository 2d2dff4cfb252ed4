import HTTPTypes
import HopGateAdminAPI
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Logging
import NIOCore
import Synchronization
import Testing

/// ``AdminAPISite``, the admin API as the public edge serves it in process: called directly with
/// exchange parts, as the router calls it.
@Suite("Admin API: served in process")
struct AdminAPISiteTests {
    static let key = "site-admin-key-0123456789abcdef0123456789"

    /// The parts a call wrote.
    final class Written: Sendable {
        let parts = Mutex<[ExchangeResponsePart]>([])
        var writer: PartWriter<ExchangeResponsePart> { PartWriter { part in self.parts.withLock { $0.append(part) } } }
        var status: Int? {
            parts.withLock { parts in parts.compactMap { if case .head(let head) = $0 { head.status.code } else { nil } }.first }
        }
        var body: String {
            parts.withLock { parts in parts.map { if case .body(let buffer) = $0 { String(buffer: buffer) } else { "" } }.joined() }
        }
        var head: HTTPResponse? {
            parts.withLock { parts in parts.compactMap { if case .head(let head) = $0 { head } else { nil } }.first }
        }
        var ended: Bool { parts.withLock { parts in if case .end = parts.last { true } else { false } } }
    }

    /// How many request parts were read.
    final class Counter: Sendable {
        let count = Mutex(0)
    }

    /// Sends one request and returns what was written; `pulled` counts the body parts read.
    func call(
        _ site: AdminAPISite, _ method: HTTPRequest.Method, _ path: String, key: String, peer: String,
        fields: HTTPFields = [:], body chunks: [ByteBuffer] = [], pulled: Counter? = nil
    ) async throws -> Written {
        var headerFields = fields
        headerFields[.authorization] = "Bearer \(key)"
        let request = HTTPRequest(method: method, scheme: "https", authority: "hopgate.localhost", path: "/api/v1/admin" + path, headerFields: headerFields)
        var remaining = chunks.map(ExchangeRequestPart.body) + [.end(nil)]
        let requestBody = PartStream<ExchangeRequestPart> {
            guard !remaining.isEmpty else { return nil }
            pulled?.count.withLock { $0 += 1 }
            return remaining.removeFirst()
        }
        let written = Written()
        try await site.handle(
            ExchangeRequestHead(request: request, requestID: "test"), peer: PeerAddress(address: peer, port: 40000),
            requestBody: requestBody, response: written.writer)
        return written
    }

    func withSite(_ body: (AdminAPISite) async throws -> Void) async throws {
        try await withStore(.memory) { store in
            let administration = DomainAdministration(store: store, logger: Logger(label: "test"))
            let responder = try AdminAPIServer.responder(
                administration: administration, credential: try AdminCredential(configuredKey: Self.key, mode: .production),
                throttle: AuthenticationThrottle(policy: .init(maximumFailures: 3, window: .seconds(60), lockout: .seconds(60))),
                logger: Logger(label: "test"))
            try await body(AdminAPISite(responder: responder, logger: Logger(label: "test")))
        }
    }

    @Test("a request body read in chunks registers a domain; the response ends with end")
    func streamsBothWays() async throws {
        try await withSite { site in
            let json = #"{"domain":"app.example.com","memo":"in process"}"#
            let chunks = json.utf8.split(separator: UInt8(ascii: ",")).enumerated().map { index, piece in
                ByteBuffer(bytes: (index == 0 ? [] : [UInt8(ascii: ",")]) + Array(piece))
            }
            let registered = try await call(
                site, .post, "/domains/register", key: Self.key, peer: "192.0.2.1", fields: [.contentType: "application/json"], body: chunks)
            #expect(registered.status == 200, "\(registered.body)")
            #expect(registered.body.contains("client_api_key"), "\(registered.body)")
            #expect(registered.ended)
            let list = try await call(site, .get, "/domains", key: Self.key, peer: "192.0.2.1")
            #expect(list.status == 200 && list.body.contains("app.example.com") && list.ended)
            // As on the admin listener: Date and Server.
            let date = try #require(list.head?.headerFields[.date])
            #expect(date.wholeMatch(of: /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/) != nil, "\(date)")
            #expect(list.head?.headerFields[.server] == "hopgate")
        }
    }

    @Test("a body over 16 KiB gets 413 without the rest being read")
    func tooLarge() async throws {
        try await withSite { site in
            let pulled = Counter()
            let chunks = Array(repeating: ByteBuffer(repeating: UInt8(ascii: "x"), count: 1024), count: 64)
            let answer = try await call(
                site, .post, "/domains/register", key: Self.key, peer: "192.0.2.1", fields: [.contentType: "application/json"],
                body: chunks, pulled: pulled)
            #expect(answer.status == 413)
            let read = pulled.count.withLock { $0 }
            #expect(read <= 18, "read \(read) of 65 parts")
        }
    }

    @Test("the lockout counts the peer the edge hands over, not X-Forwarded-For")
    func lockoutByPeer() async throws {
        try await withSite { site in
            let wrong = String(repeating: "w", count: 40)
            for index in 1...3 {
                let forged: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.\(index), 127.0.0.1"]
                #expect(try await call(site, .get, "/domains", key: wrong, peer: "192.0.2.7", fields: forged).status == 401)
            }
            let locked = try await call(site, .get, "/domains", key: Self.key, peer: "192.0.2.7")
            #expect(locked.status == 429)
            #expect(locked.body.contains("from 192.0.2.7;"), "\(locked.body)")
            let other = try await call(
                site, .get, "/domains", key: Self.key, peer: "192.0.2.8", fields: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.7"])
            #expect(other.status == 200)
        }
    }
}
