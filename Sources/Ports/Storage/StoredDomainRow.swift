public import Foundation
public import HopGateDomain

/// A domain record as a database row holds it: plain strings and microsecond timestamps.
///
/// Both SQL adapters read and write through this type so that the rules for turning a row back
/// into a ``DomainRecord`` (and the error when a row is damaged) are written once.
public struct StoredDomainRow: Sendable, Hashable {
    public var id: String
    public var domain: String
    public var keyHash: String
    public var memo: String
    /// Microseconds since 1970-01-01T00:00:00Z; the precision both databases keep.
    public var createdAtMicroseconds: Int64
    public var updatedAtMicroseconds: Int64

    public init(id: String, domain: String, keyHash: String, memo: String, createdAtMicroseconds: Int64, updatedAtMicroseconds: Int64) {
        self.id = id
        self.domain = domain
        self.keyHash = keyHash
        self.memo = memo
        self.createdAtMicroseconds = createdAtMicroseconds
        self.updatedAtMicroseconds = updatedAtMicroseconds
    }

    /// The row that stores `record`.
    public init(_ record: DomainRecord) {
        self.init(
            id: record.id.uuidString.lowercased(),
            domain: record.domain.value,
            keyHash: record.keyHash.hex,
            memo: record.memo.text,
            createdAtMicroseconds: record.createdAt.storageMicroseconds,
            updatedAtMicroseconds: record.updatedAt.storageMicroseconds
        )
    }

    /// The record this row stores.
    /// - Throws: ``DomainStoreError/Code/corrupted`` naming the column that cannot be read.
    public func record() throws(DomainStoreError) -> DomainRecord {
        guard let uuid = UUID(uuidString: id) else {
            throw DomainStoreError(.corrupted, "stored row has an invalid id")
        }
        let name: DomainName
        do { name = try DomainName(parsing: domain) } catch {
            throw DomainStoreError(.corrupted, "stored row \(id) has an invalid domain: \(error)")
        }
        let hash: ClientAPIKeyHash
        do { hash = try ClientAPIKeyHash(hex: keyHash) } catch {
            throw DomainStoreError(.corrupted, "stored row \(id) has an invalid key_hash")
        }
        let note: Memo
        do { note = try Memo(memo) } catch {
            throw DomainStoreError(.corrupted, "stored row \(id) has an invalid memo: \(error)")
        }
        return DomainRecord(
            id: uuid, domain: name, keyHash: hash, memo: note,
            createdAt: Date(storageMicroseconds: createdAtMicroseconds),
            updatedAt: Date(storageMicroseconds: updatedAtMicroseconds)
        )
    }
}

extension Date {
    /// This instant in whole microseconds since 1970 (rounded to the nearest), the resolution a
    /// stored timestamp keeps. Rounding to nearest makes the conversion stable: a date made from
    /// a microsecond count converts back to the same count despite floating-point error.
    public var storageMicroseconds: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The instant `microseconds` after 1970-01-01T00:00:00Z.
    public init(storageMicroseconds microseconds: Int64) {
        self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// This instant rounded to the resolution a store keeps, so a value that was stored and
    /// read back compares equal to it.
    public var truncatedToStorageResolution: Date { Date(storageMicroseconds: storageMicroseconds) }
}
