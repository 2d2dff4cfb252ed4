import Synchronization

/// A channel from one sending task to one receiving task that holds at most one element: a send
/// into the empty slot returns at once, a send into a full one waits until the receiver takes
/// the element there. Back-pressure is kept (the sender is at most one element ahead), while the
/// common case — a request's End, or a small body part, handed to a handler that reads it a
/// moment later — costs the sender no suspension, unlike a rendezvous channel.
///
/// After ``finish()`` the receiver gets what is in the slot, then nil. After ``fail(_:)`` it gets
/// the error at once (what is in the slot is dropped: the exchange failed). A cancelled
/// receiver gets `CancellationError`; a cancelled sender drops its element.
public final class OneSlotChannel<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error

    private struct State {
        var slot: Element?
        var finished = false
        var failure: (any Error)?
        /// The receiver, waiting for an element.
        var receiver: CheckedContinuation<Element?, any Error>?
        /// A sender, waiting for the slot to be emptied.
        var sender: CheckedContinuation<Void, Never>?
        var senderCancelled = false
        /// An element offered while the slot was full (``offer(_:onTaken:)``), and what to call
        /// when it moves into the slot.
        var offered: (element: Element, onTaken: @Sendable () -> Void)?
    }
    private let state = Mutex(State())

    private enum SendStep { case done, handTo(CheckedContinuation<Element?, any Error>), wait }
    /// What a receive found: an element (and the sender to wake), the end, a failure, or nothing yet.
    private enum Taken {
        case element(Element, CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?)
        case end, failure(any Error), wait
    }

    public init() {}

    /// Takes what a receiver gets now, under the lock: the failure (once), the element in the
    /// slot (and the sender waiting to fill it again, or the offered element's callback once it
    /// has moved into the slot), the end, or nothing yet.
    private static func take(from state: inout State) -> Taken {
        if let failure = state.failure {
            state.failure = nil
            state.finished = true
            return .failure(failure)
        }
        if let element = state.slot {
            state.slot = state.offered?.element
            defer {
                state.sender = nil
                state.offered = nil
            }
            return .element(element, state.sender, state.offered?.onTaken)
        }
        return state.finished ? .end : .wait
    }

    /// Puts `element` in the slot, waiting while it is full. Dropped once the channel is finished.
    public func send(_ element: Element) async {
        while true {
            let step = state.withLock { state -> SendStep in
                if state.finished || state.failure != nil { return .done }
                if let waiting = state.receiver {
                    state.receiver = nil
                    return .handTo(waiting)
                }
                if state.slot == nil {
                    state.slot = element
                    return .done
                }
                return .wait
            }
            switch step {
            case .done: return
            case .handTo(let receiver):
                receiver.resume(returning: element)
                return
            case .wait: break
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.senderCancelled || state.slot == nil || state.finished || state.failure != nil { return true }
                        state.sender = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let sender = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    state.senderCancelled = true
                    defer { state.sender = nil }
                    return state.sender
                }
                sender?.resume()
            }
            if Task.isCancelled { return }
        }
    }

    /// Puts `element` in the slot without waiting, for a sender that cannot wait (a channel
    /// handler on its event loop). Returns true when the element was taken at once — handed to
    /// the waiting receiver, put in the empty slot, or dropped because the channel is finished.
    /// Returns false when the slot was full: the element is kept behind it, and `onTaken` is
    /// called (on the receiver's thread, or the failing one) once it has moved into the slot or
    /// the channel failed. The caller offers nothing more until then.
    public func offer(_ element: Element, onTaken: @escaping @Sendable () -> Void) -> Bool {
        let step = state.withLock { state -> SendStep in
            if state.finished || state.failure != nil { return .done }
            if let waiting = state.receiver {
                state.receiver = nil
                return .handTo(waiting)
            }
            if state.slot == nil {
                state.slot = element
                return .done
            }
            precondition(state.offered == nil, "an element was offered before the previous one was taken")
            state.offered = (element, onTaken)
            return .wait
        }
        switch step {
        case .done: return true
        case .handTo(let receiver):
            receiver.resume(returning: element)
            return true
        case .wait: return false
        }
    }

    /// No more elements: the receiver gets what is in the slot (and an element offered behind
    /// it), then nil.
    public func finish() {
        let (receiver, sender) = state.withLock { state in
            state.finished = true
            defer { state.sender = nil }
            // A waiting receiver means the slot is empty.
            let receiver = state.receiver
            state.receiver = nil
            return (receiver, state.sender)
        }
        receiver?.resume(returning: nil)
        sender?.resume()
    }

    /// The channel failed: the receiver gets `error` (once, then nil).
    public func fail(_ error: any Error) {
        let (receiver, sender, offeredTaken) = state.withLock { state in
            if state.failure == nil && !state.finished {
                state.failure = error
                state.slot = nil
            }
            defer { state.receiver = nil; state.sender = nil; state.offered = nil }
            return (state.receiver, state.sender, state.offered?.onTaken)
        }
        receiver?.resume(throwing: error)
        sender?.resume()
        offeredTaken?()
    }

    /// The next element, nil after the end; throws the channel's failure, or `CancellationError`
    /// when the receiving task is cancelled.
    public func next() async throws -> Element? {
        switch state.withLock({ Self.take(from: &$0) }) {
        case .element(let element, let sender, let offeredTaken):
            sender?.resume()
            offeredTaken?()
            return element
        case .end: return nil
        case .failure(let error): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                let now = state.withLock { state -> Taken in
                    let taken = Self.take(from: &state)
                    guard case .wait = taken else { return taken }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.receiver = continuation
                    return .wait
                }
                switch now {
                case .element(let element, let sender, let offeredTaken):
                    sender?.resume()
                    offeredTaken?()
                    continuation.resume(returning: element)
                case .end: continuation.resume(returning: nil)
                case .failure(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let receiver = state.withLock { state in
                defer { state.receiver = nil }
                return state.receiver
            }
            receiver?.resume(throwing: CancellationError())
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: OneSlotChannel
        public mutating func next() async throws -> Element? { try await channel.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: self) }
}
