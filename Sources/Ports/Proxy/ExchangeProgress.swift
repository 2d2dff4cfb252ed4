import HTTPTypes
import NIOCore
import Synchronization

/// How far an exchange got, over all its attempts: whether a response head went out (after the
/// final one the router can no longer answer with its own page; after any, it can no longer
/// retry), how much of the request body the tunnel took, and the first failure that ended it
/// from outside (its deadline, a request body over the limit), which interrupts it; and when
/// the request last moved, for the response deadline.
final class ExchangeProgress: Sendable {
    private struct State {
        var status = 0
        var failure: (any Error)?
        var responseStarted = false
        /// A read of the public request's body is under way (a part may be in flight).
        var readingBody = false
        var bodyBytesTaken = false
        /// The request's end, once taken (sent again on a retry when no bytes came before it).
        var takenEnd: HTTPFields??
    }
    private let state = Mutex(State())
    /// What stops the exchange's attempts from outside (``stopExchange()``).
    let interruption = ExchangeInterruption()
    /// When the exchange last moved forward on the request side (its start, or the tunnel
    /// taking a part of the request body), in ``NIODeadline`` uptime nanoseconds.
    private let requestMoved = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)
    var lastRequestProgress: NIODeadline { .uptimeNanoseconds(requestMoved.load(ordering: .relaxed)) }
    /// The tunnel took a part of the request body (the response deadline starts again).
    func requestBodyMoved() { requestMoved.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed) }
    var headSent: Bool { state.withLock { $0.status != 0 } }
    var status: Int { state.withLock { $0.status } }
    var failure: (any Error)? { state.withLock { $0.failure } }
    func markHeadSent(_ status: Int) { state.withLock { $0.status = status } }
    var responseStarted: Bool { state.withLock { $0.responseStarted } }
    /// A response head (final or informational) is about to go to the public client.
    func markResponseStarted() { state.withLock { $0.responseStarted = true } }

    var bodyTaken: ExchangeRetryRule.BodyTaken {
        state.withLock { state in
            if state.bodyBytesTaken || state.readingBody { return .some }
            return state.takenEnd == nil ? .nothing : .endOnly
        }
    }

    /// The request body's end (its trailers), if an earlier attempt took it with no bytes before
    /// it: a retry sends it again instead of reading the public body, which is over.
    var endToReplay: HTTPFields?? {
        state.withLock { state in state.bodyBytesTaken ? nil : state.takenEnd }
    }

    /// The pump starts waiting for the next part of the public request's body.
    func startedReadingBody() { state.withLock { $0.readingBody = true } }

    /// The pump took `part` from the public request's body.
    func tookBodyPart(_ part: ExchangeRequestPart) {
        state.withLock { state in
            state.readingBody = false
            switch part {
            case .body: state.bodyBytesTaken = true
            case .end(let trailers): state.takenEnd = .some(trailers)
            }
        }
    }

    /// Records why the exchange ends; only the first failure counts. Returns whether it was the first.
    func fail(_ error: any Error) -> Bool {
        state.withLock { state in
            guard state.failure == nil else { return false }
            state.failure = error
            return true
        }
    }

    /// Stops the exchange with its recorded failure (see ``fail(_:)``): the attempt under way
    /// fails at once, and so would any later one.
    func stopExchange() {
        interruption.interrupt(with: failure ?? CancellationError())
    }
}
