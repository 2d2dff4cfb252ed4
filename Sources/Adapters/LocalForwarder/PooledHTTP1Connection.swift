import NIOCore
import NIOHTTP1
import Synchronization

/// One keep-alive HTTP/1.1 connection to a local service, carrying one exchange at a time: the
/// exchange's task writes the request through it and takes the response parts that
/// ``PooledConnectionHandler`` gathers on the event loop.
final class PooledHTTP1Connection: Sendable {
    let channel: any Channel
    private let state = Mutex(PooledConnectionState())

    init(channel: any Channel) { self.channel = channel }

    // MARK: The exchange's side

    /// Writes a request head and, when the request has no body, its end — at once from the
    /// connection's event loop (where the exchange's task usually runs: ``HTTP1ConnectionPool``
    /// hands out a connection of the caller's loop first), else in one hop; nothing awaited. A
    /// head that cannot be written closes the connection, so the response side fails too (an end
    /// without a body cannot fail on its own).
    func send(_ head: PooledRequestPart, ending: Bool) {
        let channel = self.channel
        guard channel.eventLoop.inEventLoop else {
            channel.eventLoop.execute { Self.send(head, ending: ending, on: channel) }
            return
        }
        Self.send(head, ending: ending, on: channel)
    }

    private static func send(_ head: PooledRequestPart, ending: Bool, on channel: any Channel) {
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in channel.close(promise: nil) }
        let pipeline = channel.pipeline.syncOperations
        if ending {
            pipeline.write(wrap(head), promise: written)
            pipeline.writeAndFlush(wrap(.end(nil)), promise: nil)
        } else {
            pipeline.writeAndFlush(wrap(head), promise: written)
        }
    }

    /// Writes one request body part or the end (`bytes` of body) in one event-loop hop; waits
    /// only while more than a window of earlier parts is still unwritten. A failed write closes
    /// the connection.
    nonisolated(nonsending) func write(_ part: PooledRequestPart, bytes: Int) async throws {
        state.withLock { $0.willWrite(bytes) }
        let channel = self.channel
        channel.eventLoop.execute { [self] in
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { [self] result in
                if case .failure = result { channel.close(promise: nil) }
                state.withLock { $0.didWrite(bytes) }?.resume()
            }
            channel.pipeline.syncOperations.writeAndFlush(Self.wrap(part), promise: written)
        }
        switch state.withLock({ $0.writeRoom() }) {
        case .room: return
        case .failed(let error): throw error
        case .wait: break
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                switch state.withLock({ $0.writeRoom(orWait: continuation) }) {
                case .room: continuation.resume()
                case .failed(let error): continuation.resume(throwing: error)
                case .wait: break  // resumed when the socket took enough, or the connection closed
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// The next response parts, waiting until some come. Cancelling the waiting task closes the
    /// connection (a half-read response can never be reused).
    /// - Throws: once the buffered parts are taken and the connection closed or failed.
    nonisolated(nonsending) func nextParts() async throws -> [HTTPClientResponsePart] {
        switch state.withLock({ $0.take() }) {
        case .parts(let parts, let resumeReading):
            if resumeReading { resumeReads() }
            return parts
        case .failed(let error):
            throw error
        case .nothing:
            break
        }
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                switch state.withLock({ $0.take(orWait: continuation) }) {
                case .parts(let parts, let resumeReading):
                    if resumeReading { resumeReads() }
                    continuation.resume(returning: parts)
                case .failed(let error):
                    continuation.resume(throwing: error)
                case .nothing:
                    break  // the handler resumes it
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// `part` wrapped for the pipeline where its type is known. `Channel.write(_:promise:)` on
    /// an `any Channel` wraps it in generic code instead, which asks the runtime whether the
    /// part is a `ByteBuffer`, an `IOData` or a `FileRegion` (≈ 890 instructions a part,
    /// callgrind).
    @inline(__always)
    private static func wrap(_ part: PooledRequestPart) -> NIOAny { NIOAny(part) }

    /// Closes the connection; it is never reused.
    func close() {
        state.withLock { $0.discard() }
        channel.close(promise: nil)
    }

    private func resumeReads() {
        let channel = self.channel
        channel.eventLoop.execute { channel.read() }
    }

    // MARK: The pool's side

    /// Whether the connection may still carry exchanges.
    var isOpen: Bool { channel.isActive && state.withLock { $0.isOpen } }

    /// Takes the connection out of the pool for an exchange; false when it closed meanwhile.
    func beginExchange() -> Bool { state.withLock { $0.beginExchange() } }

    /// After a whole exchange: marks the connection idle and makes sure an idle timer will close
    /// it after `idleTimeout` unused. Returns false when it cannot be pooled.
    func becomeIdle(idleTimeout: TimeAmount) -> Bool {
        let now = NIODeadline.now()
        let (pooled, armTimer) = state.withLock { $0.becomeIdle(at: now) }
        if armTimer { scheduleIdleCheck(at: now + idleTimeout, idleTimeout: idleTimeout) }
        return pooled
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, idleTimeout: TimeAmount) {
        channel.eventLoop.scheduleTask(deadline: deadline) { [self] in
            switch state.withLock({ $0.idleTimerFired(at: .now(), timeout: idleTimeout) }) {
            case .none: break
            case .close: channel.close(promise: nil)
            case .rearm(let next): scheduleIdleCheck(at: next, idleTimeout: idleTimeout)
            }
        }
    }

    // MARK: The channel handler's side (on the event loop)

    /// Hands over a burst of response parts; false when the connection must close.
    func deliver(_ burst: [HTTPClientResponsePart], bytes: Int) -> Bool {
        switch state.withLock({ $0.deliver(burst, bytes: bytes) }) {
        case .none: return true
        case .resume(let waiter, let parts): waiter.resume(returning: parts); return true
        case .close: return false
        }
    }

    /// Whether the handler should hold back its next read.
    func withholdsRead() -> Bool { state.withLock { $0.withholdsRead() } }

    /// The channel closed or failed.
    func closed(_ error: any Error) {
        let (reader, writer) = state.withLock { $0.close(error) }
        reader?.resume(throwing: error)
        writer?.resume(throwing: error)
    }
}
