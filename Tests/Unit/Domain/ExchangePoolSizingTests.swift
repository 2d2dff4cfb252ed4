import HopGateDomain
import Testing

@Suite("Exchange pool sizing")
struct ExchangePoolSizingTests {
    @Test func aQuietTunnelKeepsTheMinimum() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        #expect(pool.start() == 2)
        #expect(pool.streamTaken() == 1, "one taken, one replaced")
        #expect(pool.exchangeFinished() == 0)
        #expect(pool.idle == 2 && pool.inFlight == 0)
    }

    @Test func thePoolGrowsWithConcurrencyUpToTheMaximum() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 16)
        var opened = pool.start()
        for _ in 0..<200 { opened += pool.streamTaken() }
        #expect(pool.inFlight == 200)
        #expect(pool.idle == 16, "capped at the server's pool size")
        #expect(opened == 216, "every taken stream replaced, plus the growth")
        for _ in 0..<10 {
            _ = pool.streamTaken()
            #expect(pool.idle == 16)
        }
    }

    @Test func growthNeverOpensMoreThanIsMissing() {
        var pool = ExchangePoolSizing(minimumIdle: 2, maximumIdle: 8)
        _ = pool.start()
        for step in 1...6 {
            let before = pool.idle
            let opened = pool.streamTaken()
            #expect(pool.idle == before - 1 + opened)
            #expect(pool.idle == min(8, 2 + step / 2), "step \(step)")
        }
        for _ in 0..<6 { #expect(pool.exchangeFinished() == 0, "finishing never opens streams when the target falls") }
    }

    @Test func boundsAreSane() {
        let pool = ExchangePoolSizing(minimumIdle: 5, maximumIdle: 1)
        #expect(pool.minimumIdle == 1 && pool.maximumIdle == 1)
        #expect(ExchangePoolSizing(minimumIdle: 0, maximumIdle: 0).maximumIdle == 1)
    }
}
