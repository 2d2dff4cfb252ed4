import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import Synchronization
import Testing

/// The hand-over of an Exchange stream's response parts to the exchange on the server.
@Suite("Response part hand-over")
struct ResponsePartBatchesTests {
    private struct Boom: Error, Equatable {}

    private func body(_ text: String) -> [ExchangeResponsePart] { [.body(ByteBuffer(string: text))] }

    @Test("a send waits for the reader; the last batch does not, and the end follows it")
    func sendWaitsLastDoesNot() async throws {
        let batches = ResponsePartBatches()
        let sent = Atomic(0)
        async let sender: Void = {
            await batches.send(body("a"))
            sent.store(1, ordering: .sequentiallyConsistent)
            await batches.send(body("b"))
            sent.store(2, ordering: .sequentiallyConsistent)
            batches.sendLast([.end(nil)])
            sent.store(3, ordering: .sequentiallyConsistent)
        }()
        // Nobody reads yet: the first send is still waiting.
        try await Task.sleep(for: .milliseconds(50))
        #expect(sent.load(ordering: .sequentiallyConsistent) == 0)
        #expect(try await batches.next() == body("a"))
        #expect(try await batches.next() == body("b"))
        await sender
        #expect(sent.load(ordering: .sequentiallyConsistent) == 3)
        #expect(try await batches.next() == [.end(nil)])
        #expect(try await batches.next() == nil)
        #expect(try await batches.next() == nil)
    }

    /// Counts the callbacks of offers.
    private final class Callbacks: Sendable {
        private let count = Atomic(0)
        var calls: Int { count.load(ordering: .sequentiallyConsistent) }
        var callback: @Sendable () -> Void { { self.count.add(1, ordering: .sequentiallyConsistent) } }
    }

    @Test("an offer is taken at once by a waiting reader; otherwise it waits, and its callback comes when it is taken or dropped")
    func offers() async throws {
        let taken = Callbacks()
        let batches = ResponsePartBatches()
        async let read = batches.next()
        try await Task.sleep(for: .milliseconds(20))
        let now = batches.offer(body("now"), onTaken: taken.callback)
        #expect(now)
        #expect(try await read == body("now"))
        #expect(taken.calls == 0)

        let later = batches.offer(body("later"), onTaken: taken.callback)
        #expect(!later)
        #expect(taken.calls == 0)
        #expect(try await batches.next() == body("later"))
        #expect(taken.calls == 1)

        let dropped = batches.offer(body("dropped"), onTaken: taken.callback)
        #expect(!dropped)
        batches.finish()
        #expect(taken.calls == 2)
        #expect(try await batches.next() == nil)
        // After the end an offer is dropped and never waits.
        let late = batches.offer(body("late"), onTaken: taken.callback)
        #expect(late)
        #expect(taken.calls == 2)
    }

    @Test("a reader waiting first gets the batch at once")
    func readerFirst() async throws {
        let batches = ResponsePartBatches()
        async let read = batches.next()
        try await Task.sleep(for: .milliseconds(20))
        await batches.send(body("x"))
        #expect(try await read == body("x"))
    }

    @Test("a failure reaches the reader once, waiting or not, and the sequence then ends")
    func failureOnce() async throws {
        let early = ResponsePartBatches()
        early.fail(Boom())
        await #expect(throws: Boom.self) { try await early.next() }
        #expect(try await early.next() == nil)

        let waiting = ResponsePartBatches()
        async let read = waiting.next()
        try await Task.sleep(for: .milliseconds(20))
        waiting.fail(Boom())
        do {
            _ = try await read
            Issue.record("the waiting reader got no failure")
        } catch { #expect(error is Boom) }
        #expect(try await waiting.next() == nil)
    }

    @Test("finish and fail release a waiting sender and drop its batch; after the end, both do nothing")
    func endReleasesSender() async throws {
        for failing in [false, true] {
            let batches = ResponsePartBatches()
            async let sender: Void = batches.send(body("dropped"))
            try await Task.sleep(for: .milliseconds(20))
            if failing { batches.fail(Boom()) } else { batches.finish() }
            await sender
            if failing { await #expect(throws: Boom.self) { try await batches.next() } }
            #expect(try await batches.next() == nil)
            // Sends after the end return at once.
            await batches.send(body("late"))
            batches.fail(Boom())
            #expect(try await batches.next() == nil)
        }
        // A last batch already sent is kept when the sequence is finished or failed after it.
        let last = ResponsePartBatches()
        last.sendLast([.end(nil)])
        last.fail(Boom())
        last.finish()
        #expect(try await last.next() == [.end(nil)])
        #expect(try await last.next() == nil)
    }

    @Test("a cancelled sender or reader stops waiting; the reader sees the end")
    func cancellation() async throws {
        let batches = ResponsePartBatches()
        let sender = Task { await batches.send(body("never read")) }
        try await Task.sleep(for: .milliseconds(20))
        sender.cancel()
        await sender.value
        // The cancelled sender's batch is gone: a new one is what the reader gets.
        async let read = batches.next()
        try await Task.sleep(for: .milliseconds(20))
        await batches.send(body("next"))
        #expect(try await read == body("next"))

        let reader = Task { try await batches.next() }
        try await Task.sleep(for: .milliseconds(20))
        reader.cancel()
        #expect(try await reader.value == nil)
        // Cancelled before it starts, a reader does not wait either.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await batches.next()
        }
        #expect(try await early.value == nil)
    }
}
