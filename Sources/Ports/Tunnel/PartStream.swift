/// A single-pass stream of exchange parts, read with back-pressure: the producer does not get
/// ahead of the reader by more than its transport's window. Wraps whatever the transport has
/// (a gRPC message sequence, an in-process channel) behind one type.
public struct PartStream<Part: Sendable>: AsyncSequence {
    public typealias Element = Part
    public typealias Failure = any Error

    private let nextPart: () async throws -> Part?

    /// A stream whose elements come from calling `next` until it returns nil.
    public init(next: @escaping () async throws -> Part?) { self.nextPart = next }

    /// A stream over any async sequence of parts.
    public init<Base: AsyncSequence>(_ base: Base) where Base.Element == Part {
        let box = IteratorBox(base.makeAsyncIterator())
        self.nextPart = { try await box.next() }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let nextPart: () async throws -> Part?
        public mutating func next() async throws -> Part? { try await nextPart() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextPart: nextPart) }
}

/// Holds a mutable iterator so a closure can advance it.
private final class IteratorBox<Base: AsyncIteratorProtocol> {
    var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> Base.Element? { try await base.next() }
}

/// Writes exchange parts; `write` suspends while the transport's window is full, which is how
/// back-pressure reaches the producer.
public struct PartWriter<Part: Sendable>: Sendable {
    private let writePart: @Sendable (Part) async throws -> Void

    public init(_ write: @escaping @Sendable (Part) async throws -> Void) { self.writePart = write }

    public func write(_ part: Part) async throws { try await writePart(part) }
}
