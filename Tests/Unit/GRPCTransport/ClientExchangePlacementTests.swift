@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import NIOPosix
import Testing

/// Where the client runs its exchanges: on the stream's loop up to the affine limit, then spread
/// over the group's loops, with an executor made once per loop rather than per exchange.
@Suite("Client exchange placement")
struct ClientExchangePlacementTests {
    @Test("up to the limit on the stream's loop, the same executor each time; beyond it spread over every loop")
    func placement() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let placement = ClientExchangePlacement(group: group)
        let first = placement.executorForExchange(on: loops[1])
        #expect(first.eventLoop === loops[1])
        for _ in 2...ClientExchangePlacement.affineLimit {
            #expect(placement.executorForExchange(on: loops[1]) === first)
        }
        let spread = (0..<4).map { _ in placement.executorForExchange(on: loops[1]) }
        #expect(Set(spread.map { ObjectIdentifier($0.eventLoop) }) == Set(loops.map { ObjectIdentifier($0) }))
        #expect(spread.allSatisfy { executor in loops.contains { $0 === executor.eventLoop } })
        // Once they end, the stream's loop takes exchanges again.
        for _ in 0..<(ClientExchangePlacement.affineLimit + 4) { placement.exchangeEnded() }
        #expect(placement.executorForExchange(on: loops[0]).eventLoop === loops[0])
        try await group.shutdownGracefully()
    }

    @Test("a loop of another group still gets an executor of its own")
    func foreignLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let placement = ClientExchangePlacement(group: group)
        let loop = other.next()
        #expect(placement.executorForExchange(on: loop).eventLoop === loop)
        try await group.shutdownGracefully()
        try await other.shutdownGracefully()
    }
}
