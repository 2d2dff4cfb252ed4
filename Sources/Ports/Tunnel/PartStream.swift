/// A single-pass stream of exchange parts, read with back-pressure: the producer does not get
/// ahead of the reader by more than its transport's window. Wraps whatever the transport has
/// (a gRPC message sequence, an in-process channel) behind one type.
public struct PartStream<Part: Sendable>: AsyncSequence {
    public typealias Element = Part
    public typealias Failure = any Error

    /// Where the parts come from: one at a time, or in batches (what a transport received
    /// together, such as a small response's head, body and end in one message).
    fileprivate enum Source {
        case single(NextPart)
        case batched(NextBatch)
        /// All the parts, known when the stream is made.
        case known([Part])
    }

    private let source: Source

    /// The functions the parts come from run on their reader's executor
    /// (`nonisolated(nonsending)`), as do ``AsyncIterator/next()`` and
    /// ``AsyncIterator/nextBatch()``: an exchange's task reads its parts without a task switch
    /// at each call and return (each switch looked the task's executor preference up under a
    /// lock, ≈ 270 instructions, callgrind).
    fileprivate typealias NextPart = nonisolated(nonsending) () async throws -> Part?
    fileprivate typealias NextBatch = nonisolated(nonsending) () async throws -> [Part]?

    /// The producer knows the stream holds nothing but its end (an HTTP/1.1 request without
    /// `Content-Length` or `Transfer-Encoding`, or with `Content-Length: 0`): what reads it may
    /// send the request's head and end together.
    public var knownEmpty = false

    /// A stream whose elements come from calling `next` until it returns nil.
    public init(next: nonisolated(nonsending) @escaping () async throws -> Part?) { self.source = .single(next) }

    /// A stream over any async sequence of parts.
    public init<Base: AsyncSequence>(_ base: Base) where Base.Element == Part {
        let box = IteratorBox(base.makeAsyncIterator())
        self.source = .single { try await box.next() }
    }

    /// A stream whose batches of parts come from calling `nextBatch` until it returns nil. A
    /// reader that can handle several parts at once (``AsyncIterator/nextBatch()``) gets each
    /// batch whole, so that what arrived together is written on together.
    /// (A factory, not an initializer: `PartStream { nil }` stays unambiguous.)
    public static func batched(_ nextBatch: nonisolated(nonsending) @escaping () async throws -> [Part]?) -> PartStream {
        PartStream(source: .batched(nextBatch))
    }

    /// A stream of parts known already (a request whose end came with its head): read without
    /// a channel between a producer and the reader, nor a suspension.
    public static func known(_ parts: [Part]) -> PartStream {
        PartStream(source: .known(parts))
    }

    private init(source: Source) { self.source = source }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let source: Source
        /// What is left of the last batch.
        private var pending: ArraySlice<Part> = []

        fileprivate init(source: Source) {
            self.source = source
            if case .known(let parts) = source { pending = parts[...] }
        }

        public nonisolated(nonsending) mutating func next() async throws -> Part? {
            if let part = pending.popFirst() { return part }
            switch source {
            case .known:
                return nil
            case .single(let next):
                return try await next()
            case .batched(let nextBatch):
                while let batch = try await nextBatch() {
                    pending = batch[...]
                    if let part = pending.popFirst() { return part }
                }
                return nil
            }
        }

        /// The next parts that arrived together (at least one), or nil at the end: the rest of a
        /// batch that ``next()`` began, a whole batch, or a single part from a stream without
        /// batches.
        public nonisolated(nonsending) mutating func nextBatch() async throws -> ArraySlice<Part>? {
            if !pending.isEmpty {
                defer { pending = [] }
                return pending
            }
            switch source {
            case .known:
                return nil
            case .single(let next):
                return try await next().map { [$0][...] }
            case .batched(let nextBatch):
                while let batch = try await nextBatch() {
                    if !batch.isEmpty { return batch[...] }
                }
                return nil
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: source) }
}

/// Holds a mutable iterator so a closure can advance it.
private final class IteratorBox<Base: AsyncIteratorProtocol> {
    var base: Base
    init(_ base: Base) { self.base = base }
    nonisolated(nonsending) func next() async throws -> Base.Element? { try await base.next(isolation: #isolation) }
}

/// Writes exchange parts; `write` suspends while the transport's window is full, which is how
/// back-pressure reaches the producer.
public struct PartWriter<Part: Sendable>: Sendable {
    private let writePart: nonisolated(nonsending) @Sendable (Part) async throws -> Void
    private let writeParts: (nonisolated(nonsending) @Sendable (ArraySlice<Part>) async throws -> Void)?

    public init(_ write: nonisolated(nonsending) @escaping @Sendable (Part) async throws -> Void) {
        self.writePart = write
        self.writeParts = nil
    }

    /// A writer that can also take several parts in one hand-off (one task switch or event-loop
    /// hop for a small response's head, body and end instead of three).
    public init(
        _ write: nonisolated(nonsending) @escaping @Sendable (Part) async throws -> Void,
        batches writeBatch: nonisolated(nonsending) @escaping @Sendable (ArraySlice<Part>) async throws -> Void
    ) {
        self.writePart = write
        self.writeParts = writeBatch
    }

    public nonisolated(nonsending) func write(_ part: Part) async throws { try await writePart(part) }

    /// This writer with `observe` called on each part before it is written; batches stay
    /// batches.
    public func observing(_ observe: @escaping @Sendable (Part) -> Void) -> PartWriter {
        let writePart = self.writePart
        guard let writeParts else {
            return PartWriter { part in
                observe(part)
                try await writePart(part)
            }
        }
        return PartWriter(
            { part in
                observe(part)
                try await writePart(part)
            },
            batches: { parts in
                for part in parts { observe(part) }
                try await writeParts(parts)
            })
    }

    /// Writes `parts` in order, in one hand-off when the transport supports it.
    public nonisolated(nonsending) func write(contentsOf parts: ArraySlice<Part>) async throws {
        if let writeParts {
            guard !parts.isEmpty else { return }
            try await writeParts(parts)
        } else {
            for part in parts { try await writePart(part) }
        }
    }
}
