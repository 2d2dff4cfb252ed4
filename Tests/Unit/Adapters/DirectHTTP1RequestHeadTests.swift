import HTTPTypes
import HopGatePorts
import NIOHTTP1
import Testing

@testable import HopGateLocalForwarder

/// The HTTP/1.1 head the client sends its local service for an exchange.
@Suite("Local forwarder: the request head a local service gets")
struct DirectHTTP1RequestHeadTests {
    func head(_ fields: [(String, String)], authority: String?) -> ExchangeRequestHead {
        var headerFields = HTTPFields()
        for (name, value) in fields { headerFields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return ExchangeRequestHead(
            request: HTTPRequest(method: .post, scheme: "https", authority: authority, path: "/up?x=1", headerFields: headerFields),
            requestID: "id")
    }

    @Test("Host comes first, once, from the authority; hop-by-hop fields stay behind; the rest keep their order and case")
    func hostFirstOnce() {
        let sent = DirectHTTP1Forwarder.requestHead(
            head([("Accept", "*/*"), ("host", "evil.example"), ("Connection", "keep-alive"), ("X-Forwarded-For", "192.0.2.7"), ("Keep-Alive", "1"), ("content-length", "3")],
                 authority: "app.example.com"),
            target: LocalTarget(host: "127.0.0.1", port: 8080), upgrading: false)
        #expect(sent.headers.map { "\($0.name): \($0.value)" } == [
            "Host: app.example.com", "Accept: */*", "X-Forwarded-For: 192.0.2.7", "content-length: 3",
        ])
        #expect(sent.method == .POST && sent.uri == "/up?x=1" && sent.version == .http1_1)
    }

    @Test("without an authority the target's address is the Host; an upgrade and TE: trailers go on")
    func targetHostUpgradeAndTrailers() {
        let sent = DirectHTTP1Forwarder.requestHead(
            head([("Upgrade", "websocket"), ("TE", "trailers")], authority: nil),
            target: LocalTarget(host: "127.0.0.1", port: 8080), upgrading: true)
        #expect(sent.headers["Host"] == ["127.0.0.1:8080"])
        #expect(sent.headers["Upgrade"] == ["websocket"])
        #expect(sent.headers["Connection"] == ["upgrade"])
        #expect(sent.headers["TE"] == ["trailers"])
    }
}
