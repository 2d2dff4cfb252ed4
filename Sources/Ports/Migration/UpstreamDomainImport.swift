public import HopGateDomain

/// Copies upstream HopGate's domains into a ``DomainStore`` so that their clients' keys keep
/// working: each row's name is normalised as HopGate's own, its plaintext key is checked and
/// replaced by its hash, and its memo and timestamps are kept.
///
/// Idempotent: a domain the store already has is skipped, never overwritten, so a second run
/// copies nothing. A row HopGate cannot accept (an invalid name, a key that is not 64 characters
/// of `A-Z a-z 0-9 - _`) is skipped with the reason; an unusable memo is dropped, not the row.
public struct UpstreamDomainImport: Sendable {
    private let store: any DomainStore

    public init(store: any DomainStore) {
        self.store = store
    }

    /// Copies `rows` in order and reports each one.
    /// - Throws: the store's error when it fails (rows copied before it stay copied; running
    ///   again resumes).
    public func run(_ rows: [UpstreamDomainRow]) async throws(DomainStoreError) -> UpstreamImportReport {
        var report = UpstreamImportReport()
        for row in rows {
            let domain: DomainName
            do { domain = try DomainName(parsing: row.domain) } catch {
                report.skipped.append(.init(domain: row.domain, reason: .invalidDomain(error.message)))
                continue
            }
            let key: ClientAPIKey
            do { key = try ClientAPIKey(parsing: row.clientAPIKey) } catch {
                report.skipped.append(.init(domain: row.domain, reason: .invalidKey(error.message)))
                continue
            }
            if let existing = try await store.find(domain) {
                report.skipped.append(.init(domain: row.domain, reason: Self.presence(of: key, in: existing)))
                continue
            }
            var memoDropped: String?
            let memo: Memo
            do { memo = try Memo(row.memo) } catch {
                memo = .empty
                memoDropped = error.reason
            }
            let record = DomainRecord(
                domain: domain, keyHash: key.hash, memo: memo,
                createdAt: row.createdAt.truncatedToStorageResolution,
                updatedAt: row.updatedAt.truncatedToStorageResolution)
            do {
                try await store.create(record)
            } catch where error.code == .conflict {
                // Registered meanwhile (or by an earlier row with another spelling of the name).
                let existing = try await store.find(domain)
                report.skipped.append(.init(
                    domain: row.domain, reason: existing.map { Self.presence(of: key, in: $0) } ?? .alreadyPresent))
                continue
            }
            report.copied.append(.init(domain: domain, memoDropped: memoDropped))
        }
        return report
    }

    private static func presence(of key: ClientAPIKey, in record: DomainRecord) -> UpstreamImportReport.SkipReason {
        record.keyHash.matches(key) ? .alreadyPresent : .alreadyPresentWithAnotherKey
    }
}
