public import Foundation
public import HopGateDomain
public import HopGatePorts
import Synchronization

/// A `DomainStore` kept in memory: the double for unit tests, and the reference the contract
/// suite holds the real stores to.
public final class InMemoryDomainStore: DomainStore {
    private let records = Mutex<[DomainName: DomainRecord]>([:])
    /// When set, every call fails with this error (to test how callers handle a broken store).
    private let failure = Mutex<DomainStoreError?>(nil)

    public init() {}

    /// Makes every following call throw `error` (nil restores normal operation).
    public func failEveryCall(with error: DomainStoreError?) { failure.withLock { $0 = error } }

    public func create(_ record: DomainRecord) async throws(DomainStoreError) {
        try checkFailure()
        let inserted = records.withLock { records -> Bool in
            guard records[record.domain] == nil else { return false }
            records[record.domain] = record
            return true
        }
        if !inserted { throw DomainStoreError(.conflict, "the domain \(record.domain) is already registered") }
    }

    public func find(_ domain: DomainName) async throws(DomainStoreError) -> DomainRecord? {
        try checkFailure()
        return records.withLock { $0[domain] }
    }

    public func delete(_ domain: DomainName, keyHash: ClientAPIKeyHash) async throws(DomainStoreError) -> Bool {
        try checkFailure()
        return records.withLock { records in
            guard let record = records[domain], record.keyHash == keyHash else { return false }
            records[domain] = nil
            return true
        }
    }

    public func replaceKeyHash(of domain: DomainName, with keyHash: ClientAPIKeyHash, at updatedAt: Date) async throws(DomainStoreError) -> DomainRecord? {
        try checkFailure()
        return records.withLock { records in
            guard var record = records[domain] else { return nil }
            record.keyHash = keyHash
            record.updatedAt = updatedAt
            records[domain] = record
            return record
        }
    }

    public func list(after cursor: DomainName?, limit: Int) async throws(DomainStoreError) -> [DomainRecord] {
        try checkFailure()
        guard limit > 0 else { throw DomainStoreError(.invalidArgument, "limit must be positive") }
        return records.withLock { records in
            records.values
                .filter { cursor == nil || $0.domain > cursor! }
                .sorted { $0.domain < $1.domain }
                .prefix(limit)
                .map { $0 }
        }
    }

    public func count() async throws(DomainStoreError) -> Int {
        try checkFailure()
        return records.withLock { $0.count }
    }

    private func checkFailure() throws(DomainStoreError) {
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
