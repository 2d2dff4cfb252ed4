public import Foundation

/// One row of upstream HopGate's `domains` table (`dalbodeule/hop-gate`, ent schema), as read:
/// nothing is validated yet. Upstream keeps the client API key in plain text; this value carries
/// it only until ``UpstreamDomainImport`` hashes it, and its `description` never shows it.
public struct UpstreamDomainRow: Sendable, CustomStringConvertible {
    /// The domain as upstream stored it (upstream only lowercases and trims it).
    public let domain: String
    /// The plaintext client API key (upstream: 64 lowercase hexadecimal characters).
    public let clientAPIKey: String
    /// The administrator's note.
    public let memo: String
    /// When upstream registered the domain.
    public let createdAt: Date
    /// When upstream last changed the row.
    public let updatedAt: Date

    public init(domain: String, clientAPIKey: String, memo: String, createdAt: Date, updatedAt: Date) {
        self.domain = domain
        self.clientAPIKey = clientAPIKey
        self.memo = memo
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var description: String { "upstream domain \(domain)" }
}
