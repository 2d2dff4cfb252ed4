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
