import HopGateDomain
import Testing

@Suite("Exchange pool sizing")
struct ExchangePoolSizingTests {
    @Test func aTunnelThatWasNeverBusyKeepsTheMinimum() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        #expect(pool.start() == 2)
        #expect(pool.idle == 2 && pool.target == 2)
    }

    @Test func eachTakenStreamIsReplacedAndThePoolGrowsByOneUpToTheMaximum() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        var opened = pool.start()
        for taken in 1...14 {
            #expect(pool.streamTaken() == 2, "replacement plus growth (request \(taken))")
            #expect(pool.idle == 2 + taken)
        }
        for _ in 0..<100 { opened += pool.streamTaken() }
        #expect(pool.idle == 16, "capped at the server's pool size")
        #expect(opened == 2 + 100, "at the maximum, each taken stream is replaced once")
    }

    @Test func boundsAreSane() {
        let pool = ExchangePoolSizing(minimumIdle: 5, maximumIdle: 1)
        #expect(pool.minimumIdle == 1 && pool.maximumIdle == 1)
        #expect(ExchangePoolSizing(minimumIdle: 0, maximumIdle: 0).maximumIdle == 1)
    }
}

@Suite("Exchange pool sizing with reusable streams")
struct ReusableExchangePoolSizingTests {
    @Test func aReleasedStreamIsIdleAgainAndNothingIsOpened() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        _ = pool.start()
        #expect(pool.streamTaken() == 2)
        pool.streamReleased()
        #expect(pool.idle == 4 && pool.target == 3)
    }

    @Test func aBusyTunnelSettlesAndStopsOpeningStreams() {
        // 50 requests at a time, each stream reused after its exchange: after the ramp, taking a
        // stream and getting it back opens nothing.
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        var opened = pool.start()
        for _ in 0..<50 { opened += pool.streamTaken() }
        let afterRamp = opened
        for _ in 0..<10_000 {
            pool.streamReleased()
            opened += pool.streamTaken()
        }
        #expect(opened == afterRamp, "\(opened - afterRamp) streams opened in steady state")
        #expect(pool.idle == 16)
    }

    @Test func retiredStreamsShrinkThePoolDownToTheMinimumAndNoFurther() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        _ = pool.start()
        for _ in 0..<20 { _ = pool.streamTaken() }
        for _ in 0..<20 { pool.streamReleased() }
        #expect(pool.idle == 36)
        for _ in 0..<34 { #expect(pool.streamRetired() == 0) }
        #expect(pool.idle == 2 && pool.target == 2)
        #expect(pool.streamRetired() == 1, "below the minimum, a retired stream is replaced")
        #expect(pool.idle == 2)
    }
}
