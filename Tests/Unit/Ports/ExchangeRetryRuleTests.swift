import HTTPTypes
import HopGatePorts
import Testing

@Suite("ExchangeRetryRule")
struct ExchangeRetryRuleTests {
    typealias Rule = ExchangeRetryRule

    @Test(arguments: [HTTPRequest.Method.get, .post, .put, .delete])
    func nothingSentIsRetriedForAnyMethod(_ method: HTTPRequest.Method) {
        for code in [TunnelExchangeError.Code.tunnelUnavailable, .noStreamAvailable] {
            #expect(Rule.allowsRetry(after: TunnelExchangeError(code, "x"), method: method, bodyTaken: .nothing, responseStarted: false))
            // A bodiless request's end, taken to go out with its head: sent again.
            #expect(Rule.allowsRetry(after: TunnelExchangeError(code, "x"), method: method, bodyTaken: .endOnly, responseStarted: false))
        }
    }

    @Test func aBrokenTunnelIsRetriedOnlyForRepeatableMethodsWithoutBodyBytes() {
        let broke = TunnelExchangeError(.tunnelFailed, "x")
        for method in [HTTPRequest.Method.get, .head, .options] {
            #expect(Rule.allowsRetry(after: broke, method: method, bodyTaken: .nothing, responseStarted: false))
            #expect(Rule.allowsRetry(after: broke, method: method, bodyTaken: .endOnly, responseStarted: false))
            #expect(!Rule.allowsRetry(after: broke, method: method, bodyTaken: .some, responseStarted: false))
        }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            #expect(!Rule.allowsRetry(after: broke, method: method, bodyTaken: .nothing, responseStarted: false))
        }
    }

    @Test func neverAfterAResponseStartedNorForOtherFailures() {
        #expect(!Rule.allowsRetry(after: TunnelExchangeError(.tunnelUnavailable, "x"), method: .get, bodyTaken: .nothing, responseStarted: true))
        #expect(!Rule.allowsRetry(after: TunnelExchangeError(.upstreamFailed, "x"), method: .get, bodyTaken: .nothing, responseStarted: false))
        #expect(!Rule.allowsRetry(after: TunnelExchangeError(.protocolViolation, "x"), method: .get, bodyTaken: .nothing, responseStarted: false))
        #expect(!Rule.allowsRetry(after: CancellationError(), method: .get, bodyTaken: .nothing, responseStarted: false))
        // A body read from the public side cannot be sent twice, even when nothing reached the tunnel.
        #expect(!Rule.allowsRetry(after: TunnelExchangeError(.tunnelUnavailable, "x"), method: .post, bodyTaken: .some, responseStarted: false))
    }
}
