import HopGateDomain
import Testing

@Suite("TunnelLoopSpread")
struct TunnelLoopSpreadTests {
    /// Holds a spread, so that an `#expect` can call its mutating method.
    final class Spread {
        var value = TunnelLoopSpread<String>()
        func redraws(_ key: String, landedOn loop: Int, siblingsOn siblings: [Int], loops: Int = 2, at now: ContinuousClock.Instant) -> Bool {
            value.shouldRedraw(key, landedOn: loop, siblingsOn: siblings, loops: loops, at: now)
        }
    }

    let now = ContinuousClock.now

    @Test("a tunnel is redrawn only when it shares a loop while another loop has none of its route")
    func redrawsOnlyAPairedTunnelWithAFreeLoop() {
        let spread = Spread()
        // Alone, or on a loop of its own: stays.
        #expect(!spread.redraws("a", landedOn: 0, siblingsOn: [], at: now))
        #expect(!spread.redraws("a", landedOn: 1, siblingsOn: [0], at: now))
        // Paired with a sibling while loop 1 is free: redrawn.
        #expect(spread.redraws("a", landedOn: 0, siblingsOn: [0], at: now))
        // Every loop taken: a third tunnel stays wherever it lands.
        #expect(!spread.redraws("a", landedOn: 0, siblingsOn: [0, 1], at: now))
        // One loop only: nothing to spread over.
        #expect(!spread.redraws("a", landedOn: 0, siblingsOn: [0], loops: 1, at: now))
        // Three tunnels clumped on loops 0 and 2 of 4: a newcomer on 0 is redrawn.
        #expect(spread.redraws("b", landedOn: 0, siblingsOn: [0, 0, 2], loops: 4, at: now))
    }

    @Test("redraws are rationed per key over a window, and forgotten with the key")
    func redrawsAreRationed() {
        let spread = Spread()
        let maximum = TunnelLoopSpread<String>.maximumRedraws
        for _ in 0..<maximum { #expect(spread.redraws("a", landedOn: 0, siblingsOn: [0], at: now)) }
        #expect(!spread.redraws("a", landedOn: 0, siblingsOn: [0], at: now), "over the ration")
        #expect(spread.redraws("b", landedOn: 0, siblingsOn: [0], at: now), "another key has its own")
        let later = now + TunnelLoopSpread<String>.window + .seconds(1)
        for _ in 0..<maximum { #expect(spread.redraws("a", landedOn: 0, siblingsOn: [0], at: later), "the window moved on") }
        #expect(!spread.redraws("a", landedOn: 0, siblingsOn: [0], at: later))
        spread.value.forget("a")
        #expect(spread.redraws("a", landedOn: 0, siblingsOn: [0], at: later))
    }
}
