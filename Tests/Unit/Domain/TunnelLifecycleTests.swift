import HopGateDomain
import HopGateTestSupport
import Testing

@Suite("TunnelLifecycle")
struct TunnelLifecycleTests {
    typealias Lifecycle = TunnelLifecycle<ManualClock.Instant>
    let start = ManualClock.Instant(offset: .zero)
    let config = Lifecycle.Configuration(handshakeTimeout: .seconds(10), heartbeatTimeout: .seconds(30), drainTimeout: .seconds(20))

    func at(_ seconds: Int) -> ManualClock.Instant { start.advanced(by: .seconds(seconds)) }

    func active() -> Lifecycle {
        var session = Lifecycle(startedAt: start, configuration: config)
        #expect(session.handle(.accepted(at: at(1))) == .none)
        return session
    }

    @Test func handshakeThenActive() {
        let session = active()
        #expect(session.state == .active(lastHeard: at(1)))
        #expect(session.acceptsExchanges)
        #expect(session.nextDeadline == at(31))
    }

    @Test func handshakeTimesOut() {
        var session = Lifecycle(startedAt: start, configuration: config)
        #expect(session.nextDeadline == at(10))
        #expect(session.handle(.tick(at: at(9))) == .none)
        #expect(session.handle(.tick(at: at(10))) == .close(.handshakeTimeout))
        #expect(session.state == .closed(.handshakeTimeout))
    }

    @Test func refusedHelloCloses() {
        var session = Lifecycle(startedAt: start, configuration: config)
        #expect(session.handle(.refused) == .close(.refused))
        #expect(session.isClosed)
    }

    @Test func noExchangesBeforeAcceptance() {
        var session = Lifecycle(startedAt: start, configuration: config)
        #expect(session.handle(.exchangeStarted) == .refuseExchange)
        #expect(session.handle(.exchangeFinished) == .invalid)
    }

    @Test func heartbeatsKeepTheSessionAlive() {
        var session = active()
        #expect(session.handle(.heard(at: at(25))) == .none)
        #expect(session.handle(.tick(at: at(50))) == .none)
        #expect(session.nextDeadline == at(55))
        #expect(session.handle(.tick(at: at(55))) == .close(.heartbeatTimeout))
    }

    @Test func exchangesAreCounted() {
        var session = active()
        #expect(session.handle(.exchangeStarted) == .startExchange)
        #expect(session.handle(.exchangeStarted) == .startExchange)
        #expect(session.inFlight == 2)
        #expect(session.handle(.exchangeFinished) == .none)
        #expect(session.handle(.exchangeFinished) == .none)
        #expect(session.handle(.exchangeFinished) == .invalid)
        #expect(session.inFlight == 0)
    }

    @Test func drainWaitsForInFlightExchanges() {
        var session = active()
        _ = session.handle(.exchangeStarted)
        #expect(session.handle(.drain(at: at(5))) == .sendDrain)
        #expect(!session.acceptsExchanges)
        #expect(session.handle(.exchangeStarted) == .refuseExchange)
        #expect(session.handle(.drain(at: at(6))) == .none)
        #expect(session.handle(.exchangeFinished) == .close(.drained))
        #expect(session.state == .closed(.drained))
    }

    @Test func idleDrainTellsThePeerAndClosesAtOnce() {
        var session = active()
        #expect(session.handle(.drain(at: at(5))) == .sendDrainAndClose(.drained))
        #expect(session.state == .closed(.drained))
        #expect(session.closeReason == .drained)
        #expect(session.handle(.exchangeStarted) == .refuseExchange)
    }

    @Test func drainOfAFinishedSessionDoesNothing() {
        var session = active()
        _ = session.handle(.drain(at: at(5)))
        #expect(session.handle(.drain(at: at(6))) == .none)
        #expect(session.handle(.tick(at: at(100))) == .none)
        #expect(session.closeReason == .drained)
    }

    @Test func exchangeFinishingAfterACloseIsCountedDown() {
        var session = active()
        _ = session.handle(.exchangeStarted)
        _ = session.handle(.drain(at: at(5)))
        #expect(session.handle(.tick(at: at(25))) == .close(.drainTimeout))
        #expect(session.inFlight == 1)
        #expect(session.handle(.exchangeFinished) == .none)
        #expect(session.inFlight == 0)
        #expect(session.closeReason == .drainTimeout)
    }

    @Test func lastOfSeveralExchangesEndsTheDrain() {
        var session = active()
        _ = session.handle(.exchangeStarted)
        _ = session.handle(.exchangeStarted)
        #expect(session.handle(.drain(at: at(5))) == .sendDrain)
        #expect(session.handle(.exchangeFinished) == .none)
        #expect(session.closeReason == nil)
        #expect(session.handle(.exchangeFinished) == .close(.drained))
    }

    @Test func drainTimesOut() {
        var session = active()
        _ = session.handle(.exchangeStarted)
        _ = session.handle(.drain(at: at(5)))
        #expect(session.handle(.heard(at: at(20))) == .none)
        #expect(session.handle(.tick(at: at(24))) == .none)
        #expect(session.handle(.tick(at: at(25))) == .close(.drainTimeout))
    }

    @Test func drainingSessionStillDetectsADeadPeer() {
        var session = active()
        _ = session.handle(.exchangeStarted)
        _ = session.handle(.drain(at: at(30)))
        #expect(session.handle(.tick(at: at(31))) == .close(.heartbeatTimeout))
    }

    @Test func replacedSessionDrainsWithItsOwnReason() {
        var idle = active()
        #expect(idle.handle(.replaced(at: at(2))) == .sendDrainAndClose(.replaced))
        var busy = active()
        _ = busy.handle(.exchangeStarted)
        #expect(busy.handle(.replaced(at: at(2))) == .sendDrain)
    }

    @Test func transportCloseEndsEveryState() {
        var handshaking = Lifecycle(startedAt: start, configuration: config)
        #expect(handshaking.handle(.transportClosed) == .none)
        #expect(handshaking.state == .closed(.transportClosed))
        var session = active()
        _ = session.handle(.exchangeStarted)
        _ = session.handle(.drain(at: at(2)))
        #expect(session.handle(.transportClosed) == .none)
        #expect(session.isClosed)
        #expect(session.nextDeadline == nil)
    }

    @Test func closedIgnoresEverythingButRefusesExchanges() {
        var session = active()
        _ = session.handle(.transportClosed)
        #expect(session.handle(.accepted(at: at(3))) == .none)
        #expect(session.handle(.heard(at: at(3))) == .none)
        #expect(session.handle(.exchangeStarted) == .refuseExchange)
        #expect(session.state == .closed(.transportClosed))
    }

    @Test func secondAcceptanceIsInvalid() {
        var session = active()
        #expect(session.handle(.accepted(at: at(2))) == .invalid)
        #expect(session.handle(.refused) == .invalid)
        #expect(session.state == .active(lastHeard: at(1)))
    }
}
