import HTTPTypes
import HopGatePorts
import NIOCore
import Testing

@Suite("Exchange response order")
struct ExchangeResponseOrderTests {
    let chunk = ExchangeResponsePart.body(ByteBuffer(string: "x"))

    func head(_ status: HTTPResponse.Status, _ fields: HTTPFields = [:]) -> ExchangeResponsePart {
        .head(HTTPResponse(status: status, headerFields: fields))
    }

    @Test func interimHeadsThenOneFinalHeadBodyAndEnd() {
        var order = ExchangeResponseOrder(upgrading: false)
        #expect(order.receive(head(.init(code: 103), [HTTPField.Name("Link")!: "</a.css>; rel=preload"])) == .head(HTTPResponse(status: .init(code: 103), headerFields: [HTTPField.Name("Link")!: "</a.css>; rel=preload"]), final: false))
        #expect(order.status == nil)
        guard case .head(let final, true) = order.receive(head(.ok, [.contentType: "text/plain", .connection: "close, x-hop", HTTPField.Name("X-Hop")!: "1"])) else {
            Issue.record("the final head is forwarded")
            return
        }
        #expect(final.headerFields[.connection] == nil && final.headerFields[HTTPField.Name("X-Hop")!] == nil, "hop-by-hop fields removed")
        #expect(final.headerFields[.contentType] == "text/plain")
        #expect(order.status == 200)
        #expect(order.receive(chunk) == .body)
        #expect(order.receive(.end(nil)) == .end)
        #expect(order.receive(chunk) == .violation(.partAfterEnd))
    }

    @Test func outOfOrderPartsAreViolations() {
        var beforeHead = ExchangeResponseOrder(upgrading: false)
        #expect(beforeHead.receive(chunk) == .violation(.bodyBeforeHead))
        var endBeforeHead = ExchangeResponseOrder(upgrading: false)
        #expect(endBeforeHead.receive(.end(nil)) == .violation(.bodyBeforeHead))
        var twice = ExchangeResponseOrder(upgrading: false)
        _ = twice.receive(head(.ok))
        #expect(twice.receive(head(.ok)) == .violation(.secondFinalHead))
        #expect(twice.receive(head(.init(code: 103))) == .violation(.secondFinalHead), "no interim head after the final one")
    }

    @Test func aSwitchOnlyForAnUpgradeRequestAndWithUpgrade() {
        let switching = head(.switchingProtocols, [.upgrade: "websocket", .connection: "Upgrade", HTTPField.Name("Sec-WebSocket-Accept")!: "abc"])
        var notAsked = ExchangeResponseOrder(upgrading: false)
        #expect(notAsked.receive(switching) == .violation(.unexpectedSwitch))
        var withoutUpgrade = ExchangeResponseOrder(upgrading: true)
        #expect(withoutUpgrade.receive(head(.switchingProtocols)) == .violation(.unexpectedSwitch))
        var asked = ExchangeResponseOrder(upgrading: true)
        guard case .head(let forwarded, true) = asked.receive(switching) else {
            Issue.record("the switch is forwarded as the final head")
            return
        }
        #expect(forwarded.headerFields[.upgrade] == "websocket")
        #expect(forwarded.headerFields[.connection] == "upgrade")
        #expect(forwarded.headerFields[HTTPField.Name("Sec-WebSocket-Accept")!] == "abc")
        #expect(asked.status == 101)
        #expect(asked.receive(chunk) == .body, "the switched protocol's bytes follow as body parts")
    }
}
