public import Foundation
public import HopGateDomain

/// Persists registered domains. Implemented by the SQLite and PostgreSQL adapters (and an
/// in-memory double in the test support target); `Tests/Contract` holds the suite every
/// implementation must pass.
///
/// Names are always ``DomainName`` values, so every spelling that normalises to the same name
/// finds the same record. Errors are ``DomainStoreError``; a driver's own error never escapes.
public protocol DomainStore: Sendable {
    /// Stores a new record.
    /// - Throws: ``DomainStoreError/Code/conflict`` when the domain is already registered.
    func create(_ record: DomainRecord) async throws(DomainStoreError)

    /// The record of `domain`, or nil.
    func find(_ domain: DomainName) async throws(DomainStoreError) -> DomainRecord?

    /// Deletes `domain` only if its stored key hash is `keyHash`. Returns whether a record was
    /// deleted (false when the domain is unknown or the key does not match).
    func delete(_ domain: DomainName, keyHash: ClientAPIKeyHash) async throws(DomainStoreError) -> Bool

    /// Replaces the key hash (and `updatedAt`) of `domain`; returns the updated record, or nil
    /// when the domain is unknown.
    func replaceKeyHash(of domain: DomainName, with keyHash: ClientAPIKeyHash, at updatedAt: Date) async throws(DomainStoreError) -> DomainRecord?

    /// Up to `limit` records ordered by domain name, starting after `cursor` (keyset paging:
    /// stable while records are added or removed).
    func list(after cursor: DomainName?, limit: Int) async throws(DomainStoreError) -> [DomainRecord]

    /// The number of registered domains.
    func count() async throws(DomainStoreError) -> Int
}
