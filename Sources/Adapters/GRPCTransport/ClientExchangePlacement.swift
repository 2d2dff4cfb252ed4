import HopGatePorts
import NIOCore
import NIOPosix
import Synchronization

/// Where the client runs an exchange's task (``ClientExchangeStreamHandler``): on its Exchange
/// stream's event loop — the tunnel connection's — while few exchanges of the tunnel run, and
/// spread over all the loops beyond that.
///
/// Measured on 2 cores against always spreading: on the stream's loop an exchange needs no hop
/// to its stream, so the client spends about a fifth less CPU per request, one connection and
/// `h2load -m50` get 5–8 % more requests through and the head-of-line p99 drops; but with every
/// exchange on that one loop, 200 connections got 13 % fewer requests through. Past
/// ``affineLimit`` running exchanges the others go to the other loops.
final class ClientExchangePlacement: Sendable {
    /// The most exchanges of a tunnel run on its connection's loop at once.
    static let affineLimit = 32

    private let running = Atomic(0)
    /// An executor per event loop of the group the exchanges run on, made once: one made for
    /// each exchange cost an allocation per request.
    private let executors: [EventLoopTaskExecutor]
    /// Which of ``executors`` takes the next exchange spread beyond the stream's loop.
    private let nextSpread = Atomic<UInt>(0)

    init(group: MultiThreadedEventLoopGroup = .singleton) {
        executors = group.makeIterator().map { EventLoopTaskExecutor($0) }
    }

    /// The executor for an exchange that starts now; call ``exchangeEnded()`` when it ends.
    func executorForExchange(on streamLoop: any EventLoop) -> EventLoopTaskExecutor {
        let count = running.add(1, ordering: .relaxed).newValue
        guard count > Self.affineLimit else {
            return executors.first { $0.eventLoop === streamLoop } ?? EventLoopTaskExecutor(streamLoop)
        }
        let index = nextSpread.wrappingAdd(1, ordering: .relaxed).newValue
        return executors[Int(index % UInt(executors.count))]
    }

    func exchangeEnded() {
        running.subtract(1, ordering: .relaxed)
    }
}
