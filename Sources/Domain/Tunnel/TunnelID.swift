public import Foundation

/// Identifies one tunnel session for its whole life; appears in logs as `tunnel_id`.
public struct TunnelID: Sendable, Hashable, CustomStringConvertible {
    public let value: UUID
    public init(_ value: UUID = UUID()) { self.value = value }
    /// The first eight hex digits: enough to tell tunnels apart in a log.
    public var description: String { String(value.uuidString.lowercased().prefix(8)) }
}
