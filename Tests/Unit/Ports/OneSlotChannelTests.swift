import HopGatePorts
import Synchronization
import Testing

/// The request-body channel of the client's exchanges: at most one element ahead, in order,
/// with its end and failures delivered as documented.
@Suite("One-slot channel")
struct OneSlotChannelTests {
    @Test func aSendIntoTheEmptySlotReturnsAtOnceAndTheEndFollows() async throws {
        let channel = OneSlotChannel<Int>()
        await channel.send(1)  // no receiver yet: would hang here if the send waited for one
        channel.finish()
        #expect(try await channel.next() == 1)
        #expect(try await channel.next() == nil)
        #expect(try await channel.next() == nil)
    }

    @Test func theSenderStaysAtMostOneElementAhead() async throws {
        let channel = OneSlotChannel<Int>()
        let sent = SentCount()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for value in 1...100 {
                    await channel.send(value)
                    sent.value.store(value, ordering: .relaxed)
                }
                channel.finish()
            }
            var received: [Int] = []
            while let value = try await channel.next() {
                received.append(value)
                // Taking `value` frees the slot for value + 1, and value + 2 waits for the next take.
                #expect(sent.value.load(ordering: .relaxed) <= value + 1)
                await Task.yield()
            }
            #expect(received == Array(1...100))
            try await group.waitForAll()
        }
    }

    @Test func aFailureReachesAWaitingReceiverAndDropsTheSlot() async throws {
        struct Broken: Error {}
        let channel = OneSlotChannel<Int>()
        await channel.send(1)
        channel.fail(Broken())
        await #expect(throws: Broken.self) { try await channel.next() }
        #expect(try await channel.next() == nil)
        await channel.send(2)  // dropped: the channel is over
        #expect(try await channel.next() == nil)
    }

    @Test func aFailureAfterTheEndLeavesTheEndInPlace() async throws {
        let channel = OneSlotChannel<Int>()
        await channel.send(7)
        channel.finish()
        channel.fail(CancellationError())
        #expect(try await channel.next() == 7)
        #expect(try await channel.next() == nil)
    }

    @Test func aCancelledReceiverGetsCancellationError() async throws {
        let channel = OneSlotChannel<Int>()
        let receiving = Task { try await channel.next() }
        try await Task.sleep(for: .milliseconds(50))
        receiving.cancel()
        await #expect(throws: CancellationError.self) { try await receiving.value }
    }

    @Test func aSenderWaitingOnAFullSlotIsReleasedByFinish() async throws {
        let channel = OneSlotChannel<Int>()
        await channel.send(1)
        let second = Task { await channel.send(2) }  // waits: the slot is full
        try await Task.sleep(for: .milliseconds(50))
        channel.finish()
        await second.value
        #expect(try await channel.next() == 1)
        #expect(try await channel.next() == nil)
    }

    @Test func anOfferBehindAFullSlotIsKeptAndReportedWhenItMovesIn() async throws {
        let channel = OneSlotChannel<Int>()
        let taken = SentCount()
        let intoEmptySlot = channel.offer(1, onTaken: { Issue.record("the first offer went into the empty slot") })
        let behindFullSlot = channel.offer(2, onTaken: { taken.value.add(1, ordering: .relaxed) })
        #expect(intoEmptySlot)
        #expect(!behindFullSlot)
        #expect(taken.value.load(ordering: .relaxed) == 0)
        channel.finish()  // keeps both: the receiver gets the slot, then the offered element
        #expect(try await channel.next() == 1)
        #expect(taken.value.load(ordering: .relaxed) == 1)
        #expect(try await channel.next() == 2)
        #expect(try await channel.next() == nil)
        let afterTheEnd = channel.offer(3, onTaken: {})
        #expect(afterTheEnd)  // dropped: the channel is finished
    }

    @Test func aFailureReleasesAnOfferer() async throws {
        let channel = OneSlotChannel<Int>()
        let taken = SentCount()
        _ = channel.offer(1, onTaken: {})
        let behindFullSlot = channel.offer(2, onTaken: { taken.value.add(1, ordering: .relaxed) })
        #expect(!behindFullSlot)
        channel.fail(CancellationError())
        #expect(taken.value.load(ordering: .relaxed) == 1)
        await #expect(throws: CancellationError.self) { try await channel.next() }
    }

    @Test func anOfferGoesStraightToAWaitingReceiver() async throws {
        let channel = OneSlotChannel<Int>()
        let receiving = Task { try await channel.next() }
        try await Task.sleep(for: .milliseconds(50))
        let handed = channel.offer(5, onTaken: {})
        #expect(handed)
        #expect(try await receiving.value == 5)
    }
}

/// How far the sender got, shared with the receiving test.
private final class SentCount: Sendable {
    let value = Atomic(0)
}
