import HTTPTypes
import HopGateDomain
import HopGateTestSupport
import NIOPosix
import Testing

@testable import HopGatePorts

/// The request the edge sends through the tunnel: what it removes, replaces and adds.
@Suite("Public request router: the forwarded request")
struct ForwardedRequestTests {
    func router() -> PublicRequestRouter {
        let logs = CapturedLogs()
        let administration = DomainAdministration(store: InMemoryDomainStore(), logger: logs.logger())
        let hub = TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: logs.logger())
        return PublicRequestRouter(hub: hub, administration: administration, configuration: .init(), timers: MultiThreadedEventLoopGroup.singleton, logger: logs.logger())
    }

    func request(_ fields: [(String, String)]) -> HTTPRequest {
        var headerFields = HTTPFields()
        for (name, value) in fields { headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return HTTPRequest(method: .get, scheme: "https", authority: "app.example.com:8443", path: "/a?b", headerFields: headerFields)
    }

    @Test("hop-by-hop fields and the ones the edge sets are replaced; others keep their order")
    func replaced() {
        let forwarded = router().forwarded(
            request([
                ("Accept", "*/*"), ("X-Forwarded-For", "198.51.100.1"), ("Connection", "keep-alive, X-Secret"),
                ("X-Secret", "s"), ("X-Real-IP", "spoofed"), ("x-forwarded-proto", "http"), ("X-Forwarded-Host", "evil"),
                ("X-Forwarded-Prefix", "/evil"), ("X-Request-Id", "theirs"), ("Expect", "100-continue"),
                ("Cookie", "a=1"), ("x-forwarded-for", "203.0.113.9"), ("Keep-Alive", "timeout=5"), ("User-Agent", "t"),
            ]),
            peer: PeerAddress(address: "192.0.2.7", port: 4000), scheme: "https", requestID: "0123abcd")
        let fields = forwarded.headerFields.map { "\($0.name.rawName): \($0.value)" }
        #expect(fields == [
            "Accept: */*", "Cookie: a=1", "User-Agent: t",
            "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 192.0.2.7", "X-Real-IP: 192.0.2.7", "X-Forwarded-Proto: https",
            "X-Forwarded-Host: app.example.com:8443", "X-Request-Id: 0123abcd",
        ])
        #expect(forwarded.method == .get && forwarded.path == "/a?b" && forwarded.authority == "app.example.com:8443")
    }

    @Test("TE: trailers and an upgrade's Upgrade and Connection go on to the next hop")
    func trailersAndUpgrade() {
        let forwarded = router().forwarded(
            request([("TE", "gzip, trailers"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "k")]),
            peer: PeerAddress(address: "2001:db8::1"), scheme: "http", requestID: "id")
        let fields = forwarded.headerFields
        #expect(fields[.te] == "trailers")
        #expect(fields[.upgrade] == "websocket")
        #expect(fields[.connection] == "upgrade")
        #expect(fields[HTTPField.Name("Sec-WebSocket-Key")!] == "k")
        #expect(fields[HTTPField.Name("X-Forwarded-For")!] == "2001:db8::1")
        #expect(fields[HTTPField.Name("X-Forwarded-Proto")!] == "http")
        #expect(fields.count == 9)
    }

    @Test("a request with nothing to drop or set keeps its fields, in order, duplicates included, before the edge's")
    func nothingTaken() {
        let original = request([("Accept", "*/*"), ("Cookie", "a=1"), ("cookie", "b=2"), ("User-Agent", "t"), ("X-Custom", "caf\u{e9}")])
        let forwarded = router().forwarded(original, peer: PeerAddress(address: "192.0.2.7", port: 4000), scheme: "https", requestID: "id1")
        let fields = forwarded.headerFields.map { "\($0.name.rawName): \($0.value)" }
        #expect(fields == [
            "Accept: */*", "Cookie: a=1", "cookie: b=2", "User-Agent: t", "X-Custom: caf\u{e9}",
            "X-Forwarded-For: 192.0.2.7", "X-Real-IP: 192.0.2.7", "X-Forwarded-Proto: https",
            "X-Forwarded-Host: app.example.com:8443", "X-Request-Id: id1",
        ])
        #expect(original.headerFields.count == 5)
    }
}
