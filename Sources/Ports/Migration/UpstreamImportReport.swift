public import HopGateDomain

/// What ``UpstreamDomainImport`` did with each upstream row: copied or skipped, and why. Holds
/// no key, so it is safe to print.
public struct UpstreamImportReport: Sendable, Equatable {
    /// A row that became a HopGate record.
    public struct Copied: Sendable, Equatable {
        public let domain: DomainName
        /// Set when the memo could not be kept (too long, control characters): the record was
        /// copied with an empty memo, and this says why.
        public let memoDropped: String?

        public init(domain: DomainName, memoDropped: String?) {
            self.domain = domain
            self.memoDropped = memoDropped
        }
    }

    /// A row that was left alone.
    public struct Skipped: Sendable, Equatable {
        /// The domain as upstream stored it.
        public let domain: String
        public let reason: SkipReason

        public init(domain: String, reason: SkipReason) {
            self.domain = domain
            self.reason = reason
        }
    }

    /// Why a row was skipped.
    public enum SkipReason: Sendable, Equatable, CustomStringConvertible {
        /// HopGate already has this domain with the same key (an earlier import).
        case alreadyPresent
        /// HopGate already has this domain with another key; HopGate's record is kept.
        case alreadyPresentWithAnotherKey
        /// The name is not a valid domain name for HopGate; the message says why.
        case invalidDomain(String)
        /// The key is not a 64-character key HopGate accepts; the message says why (never the key).
        case invalidKey(String)

        public var description: String {
            switch self {
            case .alreadyPresent: "already present"
            case .alreadyPresentWithAnotherKey: "already present with another key (HopGate's record kept)"
            case .invalidDomain(let why): "invalid domain name: \(why)"
            case .invalidKey(let why): "invalid key: \(why)"
            }
        }
    }

    public internal(set) var copied: [Copied] = []
    public internal(set) var skipped: [Skipped] = []

    public init() {}

    /// The report as lines for people: one per row, then a total.
    public var lines: [String] {
        var lines: [String] = []
        for row in copied {
            lines.append("copied \(row.domain)" + (row.memoDropped.map { " (memo dropped: \($0))" } ?? ""))
        }
        for row in skipped { lines.append("skipped \(row.domain): \(row.reason)") }
        let total = "\(copied.count) copied, \(skipped.count) skipped"
        lines.append(copied.isEmpty ? "nothing to copy: \(total)" : total)
        return lines
    }
}
