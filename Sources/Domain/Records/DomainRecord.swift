public import Foundation

/// A registered domain as stored: who may open tunnels for it is decided by ``keyHash``.
public struct DomainRecord: Sendable, Hashable, Identifiable {
    /// A random identifier, stable for the life of the registration.
    public let id: UUID
    /// The normalised domain name; unique in a store.
    public var domain: DomainName
    /// The SHA-256 of the client API key; the key itself is never stored.
    public var keyHash: ClientAPIKeyHash
    /// The administrator's note.
    public var memo: Memo
    /// When the domain was registered.
    public var createdAt: Date
    /// When the record last changed (registration, key rotation, memo change).
    public var updatedAt: Date

    public init(id: UUID = UUID(), domain: DomainName, keyHash: ClientAPIKeyHash, memo: Memo, createdAt: Date, updatedAt: Date? = nil) {
        self.id = id
        self.domain = domain
        self.keyHash = keyHash
        self.memo = memo
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}
