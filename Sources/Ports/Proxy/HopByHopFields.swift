import Foundation
public import HTTPTypes

/// The hop-by-hop header fields (RFC 9110 §7.6.1) that never cross a proxy, plus any field the
/// `Connection` header names.
public enum HopByHopFields {
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Whether `name` is one of the fixed hop-by-hop fields (whatever its case). Fields that a
    /// `Connection` header names are hop-by-hop too: ``removing(from:)`` drops those as well.
    public static func isHopByHop(_ name: String) -> Bool { names.contains(name.lowercased()) }

    /// Whether `name` is one of the fixed hop-by-hop fields.
    public static func isHopByHop(_ name: HTTPField.Name) -> Bool { names.contains(name.canonicalName) }

    /// `fields` without hop-by-hop fields.
    public static func removing(from fields: HTTPFields) -> HTTPFields {
        let tokens = connectionTokens(fields)
        func isRemoved(_ field: HTTPField) -> Bool {
            names.contains(field.name.canonicalName) || (!tokens.isEmpty && tokens.contains(field.name.canonicalName))
        }
        // Usually there is none (a response the client already cleaned, most requests): no copy.
        guard fields.contains(where: isRemoved) else { return fields }
        var result = HTTPFields()
        result.reserveCapacity(fields.count)
        for field in fields where !isRemoved(field) {
            result.append(field)
        }
        return result
    }

    /// Whether a request asks to switch protocols: an `Upgrade` field, and `upgrade` among the
    /// `Connection` tokens (RFC 9110 §7.8).
    public static func isUpgradeRequest(_ fields: HTTPFields) -> Bool {
        fields[.upgrade] != nil && connectionTokens(fields).contains("upgrade")
    }

    /// Whether a request says it accepts trailers (`TE: trailers`, RFC 9110 §10.1.4).
    public static func acceptsTrailers(_ fields: HTTPFields) -> Bool {
        fields[values: .te].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("trailers") }
        }
    }

    /// The lower-cased tokens of the `Connection` fields.
    static func connectionTokens(_ fields: HTTPFields) -> Set<String> {
        var tokens = Set<String>()
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                tokens.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        return tokens
    }
}
