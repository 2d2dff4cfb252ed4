public import HopGatePorts

/// Every `DomainStore` implementation; contract tests take one as an argument
/// (`@Test(arguments: StoreKind.allCases)`) and run unchanged against each.
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory

    public var description: String { rawValue }
}

/// Runs `body` with a fresh, empty store of `kind`, and tears it down afterwards.
public func withStore<Result>(
    _ kind: StoreKind,
    _ body: (any DomainStore) async throws -> Result
) async throws -> Result {
    switch kind {
    case .memory:
        return try await body(InMemoryDomainStore())
    }
}
