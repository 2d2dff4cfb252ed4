/// Carries a gRPC request iterator from the task that read the first message into the one child
/// task that reads the rest.
///
/// `@unchecked Sendable` is safe because of how it is used: the handler reads the first message
/// through it, then hands it to exactly one child task and never touches it again, so the
/// iterator is only ever used by one task at a time, with the task-group hand-off ordering the
/// accesses.
final class OneTaskIterator<Base: AsyncIteratorProtocol>: @unchecked Sendable {
    private var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> Base.Element? { try await base.next() }
}
