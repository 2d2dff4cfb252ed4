import HopGatePorts
import Synchronization
import Testing

/// Parts that arrive together travel together: a batched stream hands a reader whole batches,
/// and a writer that takes batches gets them in one call, also through an observer.
@Suite("Part batching")
struct PartBatchingTests {
    @Test func aBatchedStreamGivesWholeBatchesAndSinglePartsInOrder() async throws {
        let stream = batched([[1, 2, 3], [], [4], [5, 6]])
        var batches = stream.makeAsyncIterator()
        #expect(try await batches.nextBatch().map(Array.init) == [1, 2, 3])
        #expect(try await batches.nextBatch().map(Array.init) == [4])  // the empty batch is skipped
        #expect(try await batches.next() == 5)
        #expect(try await batches.nextBatch().map(Array.init) == [6])  // the rest of a begun batch
        #expect(try await batches.nextBatch() == nil)

        var all: [Int] = []
        for try await part in batched([[1, 2, 3], [], [4], [5, 6]]) { all.append(part) }
        #expect(all == [1, 2, 3, 4, 5, 6])
    }

    @Test func aStreamOfSinglePartsGivesBatchesOfOne() async throws {
        var parts = PartStream<Int>(finished([7, 8])).makeAsyncIterator()
        #expect(try await parts.nextBatch().map(Array.init) == [7])
        #expect(try await parts.nextBatch().map(Array.init) == [8])
        #expect(try await parts.nextBatch() == nil)
    }

    @Test func aStreamOfKnownPartsGivesThemAsOneBatchThenEnds() async throws {
        var batches = PartStream<Int>.known([1, 2]).makeAsyncIterator()
        #expect(try await batches.nextBatch().map(Array.init) == [1, 2])
        #expect(try await batches.nextBatch() == nil)
        #expect(try await batches.next() == nil)

        var parts = PartStream<Int>.known([3, 4]).makeAsyncIterator()
        #expect(try await parts.next() == 3)
        #expect(try await parts.nextBatch().map(Array.init) == [4])
        #expect(try await parts.next() == nil)
        var none = PartStream<Int>.known([]).makeAsyncIterator()
        #expect(try await none.nextBatch() == nil)
    }

    @Test func aWriterTakesABatchInOneCallEvenWhenObserved() async throws {
        let calls = Mutex<[[Int]]>([])
        let seen = Mutex<[Int]>([])
        let writer = PartWriter<Int>({ part in calls.withLock { $0.append([part]) } },
                                     batches: { parts in calls.withLock { $0.append(Array(parts)) } })
        let observed = writer.observing { part in seen.withLock { $0.append(part) } }
        try await observed.write(contentsOf: [1, 2, 3][...])
        try await observed.write(4)
        try await observed.write(contentsOf: [][...])
        #expect(calls.withLock { $0 } == [[1, 2, 3], [4]])
        #expect(seen.withLock { $0 } == [1, 2, 3, 4])
    }

    @Test func aWriterWithoutBatchesWritesABatchPartByPart() async throws {
        let calls = Mutex<[Int]>([])
        let writer = PartWriter<Int> { part in calls.withLock { $0.append(part) } }.observing { _ in }
        try await writer.write(contentsOf: [1, 2][...])
        #expect(calls.withLock { $0 } == [1, 2])
    }
}

/// A part stream of `batches` that then ends.
private func batched(_ batches: [[Int]]) -> PartStream<Int> {
    var iterator = finished(batches).makeAsyncIterator()
    return PartStream.batched { await iterator.next(isolation: #isolation) }
}

/// A stream of `elements` that then ends.
private func finished<Element: Sendable>(_ elements: [Element]) -> AsyncStream<Element> {
    let (stream, continuation) = AsyncStream.makeStream(of: Element.self)
    for element in elements { continuation.yield(element) }
    continuation.finish()
    return stream
}
