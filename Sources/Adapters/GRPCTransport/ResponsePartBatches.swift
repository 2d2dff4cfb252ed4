import HopGatePorts
import Synchronization

/// How an Exchange stream's response reaches the public side on the server: the parts of one
/// message in one hand-over (a small response's head, body and end arrive together and are
/// written to the public connection together).
///
/// A reusable stream's channel handler (``offer(_:onTaken:)``) or a version 1 stream's reader
/// task (``send(_:)``) sends,
/// the exchange's task reads, one batch at a time. A send is done once the reader has taken its
/// batch, so the client is held back by the reader (through the stream's HTTP/2 window);
/// ``sendLast(_:)``, for the batch that carries the End, does not wait. ``fail(_:)`` reaches the reader once, then the sequence ends; ``finish()`` and
/// ``fail(_:)`` drop a batch still waiting for the reader and release its sender; a cancelled
/// sender stops waiting (its batch is dropped), and a cancelled reader sees the end.
///
/// It replaces swift-async-algorithms' `AsyncThrowingChannel` (same behaviour, plus the last
/// batch that does not wait), whose generic state machine runs unspecialized in our module:
/// metadata look-ups, an `OrderedSet` and several allocations for every exchange.
final class ResponsePartBatches: Sendable {
    typealias Element = [ExchangeResponsePart]

    private enum End {
        case finished
        /// Not yet seen by the reader; it becomes `finished` once thrown.
        case failed(any Error)
    }

    /// How a waiting sender is told that its batch was taken (or dropped).
    private enum Sender {
        /// A task suspended in ``send(_:)``.
        case task(UnsafeContinuation<Void, Never>)
        /// A handler that stopped reading in ``offer(_:onTaken:)``.
        case callback(@Sendable () -> Void)

        func release() {
            switch self {
            case .task(let continuation): continuation.resume()
            case .callback(let callback): callback()
            }
        }
    }

    private struct Waiting {
        let id: UInt64
        let batch: Element
        /// Nil for the last batch, whose sender did not wait.
        let sender: Sender?
    }

    /// The continuations are unsafe ones (no per-suspension allocation or check): each is
    /// stored here or resumed at once, and whoever takes one out under the lock — and only
    /// that one — resumes it, so each is resumed exactly once (the unit tests drive every path).
    private struct State {
        /// Batches sent and not yet taken, oldest first (at most one with a single sender, plus
        /// none or the last).
        var waiting: [Waiting] = []
        var reader: UnsafeContinuation<Element?, any Error>?
        var end: End?
        var nextID: UInt64 = 0
    }

    /// What the reader does next.
    private enum Take {
        case batch(Element, release: Sender?)
        case end
        case failure(any Error)
        case wait
    }

    private let state = Mutex(State())

    init() {}

    // MARK: Sending

    /// Hands `batch` to the reader and returns once it has taken it, or once the sequence has
    /// ended or the calling task is cancelled (the batch is then dropped).
    func send(_ batch: Element) async {
        let id: UInt64
        switch start(batch, queueing: nil) {
        case .dropped: return
        case .handed(let reader):
            reader.resume(returning: batch)
            return
        case .waits(let waiterID): id = waiterID
        }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (sender: UnsafeContinuation<Void, Never>) in
                // Checked again: the reader may have come, or the sequence ended, meanwhile.
                // A cancellation before this point set the task's flag before its handler ran.
                enum Outcome { case queued, handed(UnsafeContinuation<Element?, any Error>), released }
                let outcome = state.withLock { state -> Outcome in
                    if state.end != nil || Task.isCancelled { return .released }
                    if let reader = state.reader {
                        state.reader = nil
                        return .handed(reader)
                    }
                    state.waiting.append(Waiting(id: id, batch: batch, sender: .task(sender)))
                    return .queued
                }
                switch outcome {
                case .queued: break
                case .handed(let reader):
                    reader.resume(returning: batch)
                    sender.resume()
                case .released: sender.resume()
                }
            }
        } onCancel: {
            let sender = state.withLock { state -> Sender? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).sender
            }
            sender?.release()
        }
    }

    /// Hands `batch` to the reader without waiting: for a sender that is not a task (the
    /// Exchange stream's channel handler). Returns true when the reader took it at once, or the
    /// sequence has ended (the batch is dropped); false when it waits for the reader, in which
    /// case `onTaken` is called once it has been taken or dropped — the sender should read no
    /// more until then.
    func offer(_ batch: Element, onTaken: @escaping @Sendable () -> Void) -> Bool {
        switch start(batch, queueing: .callback(onTaken)) {
        case .dropped: return true
        case .handed(let reader):
            reader.resume(returning: batch)
            return true
        case .waits: return false
        }
    }

    /// How a send begins.
    private enum Start { case dropped, handed(UnsafeContinuation<Element?, any Error>), waits(id: UInt64) }

    /// Begins sending `batch`: dropped after the end, handed to a waiting reader, or numbered to
    /// wait — and queued at once with `sender` when there is one (a task sender queues itself
    /// later, once it has its continuation).
    private func start(_ batch: Element, queueing sender: Sender?) -> Start {
        state.withLock { state -> Start in
            guard state.end == nil else { return .dropped }
            if let reader = state.reader {
                state.reader = nil
                return .handed(reader)
            }
            state.nextID += 1
            if let sender { state.waiting.append(Waiting(id: state.nextID, batch: batch, sender: sender)) }
            return .waits(id: state.nextID)
        }
    }

    /// Hands over the last batch (the one that carries the End) and ends the sequence after it,
    /// without waiting for the reader.
    func sendLast(_ batch: Element) {
        let reader = state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = .finished
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.nextID += 1
            state.waiting.append(Waiting(id: state.nextID, batch: batch, sender: nil))
            return nil
        }
        reader?.resume(returning: batch)
    }

    /// Ends the sequence: the reader sees its end after any last batch; a waiting sender is
    /// released. Does nothing once the sequence has ended.
    func finish() { end(.finished) }

    /// Ends the sequence with `error`, which the reader gets once; a waiting sender is released.
    /// Does nothing once the sequence has ended.
    func fail(_ error: any Error) { end(.failed(error)) }

    private func end(_ end: End) {
        let (senders, reader) = state.withLock { state -> ([Sender], UnsafeContinuation<Element?, any Error>?) in
            guard state.end == nil else { return ([], nil) }
            defer {
                state.waiting = []
                state.reader = nil
            }
            // A reader already waiting takes the failure now, so it is seen as thrown.
            if case .failed = end, state.reader != nil {
                state.end = .finished
            } else {
                state.end = end
            }
            return (state.waiting.compactMap(\.sender), state.reader)
        }
        for sender in senders { sender.release() }
        switch end {
        case .finished: reader?.resume(returning: nil)
        case .failed(let error): reader?.resume(throwing: error)
        }
    }

    // MARK: Reading

    /// The next batch, nil at the end (also when the calling task is cancelled while it waits);
    /// throws the failure once.
    nonisolated(nonsending) func next() async throws -> Element? {
        switch state.withLock({ Self.take(&$0) }) {
        case .batch(let batch, let sender):
            sender?.release()
            return batch
        case .end: return nil
        case .failure(let error): throw error
        case .wait: break
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (reader: UnsafeContinuation<Element?, any Error>) in
                let take = state.withLock { state -> Take in
                    let take = Self.take(&state)
                    guard case .wait = take else { return take }
                    if Task.isCancelled { return .end }
                    state.reader = reader
                    return .wait
                }
                switch take {
                case .batch(let batch, let sender):
                    sender?.release()
                    reader.resume(returning: batch)
                case .end: reader.resume(returning: nil)
                case .failure(let error): reader.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let reader = state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(returning: nil)
        }
    }

    private static func take(_ state: inout State) -> Take {
        if !state.waiting.isEmpty {
            let first = state.waiting.removeFirst()
            return .batch(first.batch, release: first.sender)
        }
        switch state.end {
        case .finished?: return .end
        case .failed(let error)?:
            state.end = .finished
            return .failure(error)
        case nil: return .wait
        }
    }
}
