import Foundation
public import HTTPTypes

/// The hop-by-hop header fields (RFC 9110 §7.6.1) that never cross a proxy, plus any field the
/// `Connection` header names.
public enum HopByHopFields {
    /// Whether a lower-cased name is one of the fixed hop-by-hop fields: `connection`,
    /// `keep-alive`, `proxy-connection`, `te`, `transfer-encoding`, `upgrade`,
    /// `proxy-authenticate`, `proxy-authorization`.
    ///
    /// Asked for every field of every request and response on both sides of the tunnel, so it
    /// compares by length first instead of hashing the name into a `Set` (hashing was about 1 %
    /// of the client's CPU per request).
    static func isFixedHopByHop(canonical name: String) -> Bool {
        switch name.utf8.count {
        case 2: name == "te"
        case 7: name == "upgrade"
        case 10: name == "connection" || name == "keep-alive"
        case 16: name == "proxy-connection"
        case 17: name == "transfer-encoding"
        case 18: name == "proxy-authenticate"
        case 19: name == "proxy-authorization"
        default: false
        }
    }

    /// Whether `name` is one of the fixed hop-by-hop fields (whatever its case). Fields that a
    /// `Connection` header names are hop-by-hop too: ``removing(from:)`` drops those as well.
    public static func isHopByHop(_ name: String) -> Bool { isFixedHopByHop(canonical: name.lowercased()) }

    /// Whether `name` is one of the fixed hop-by-hop fields.
    public static func isHopByHop(_ name: HTTPField.Name) -> Bool { isFixedHopByHop(canonical: name.canonicalName) }

    /// Whether a field named `name` (lower-cased) is hop-by-hop in fields whose `Connection`
    /// tokens are `tokens` (``connectionTokens(_:)``): a fixed one, or one `Connection` names.
    static func isHopByHop(canonical name: String, connectionTokens tokens: Set<String>) -> Bool {
        isFixedHopByHop(canonical: name) || (!tokens.isEmpty && tokens.contains(name))
    }

    /// `fields` without hop-by-hop fields.
    public static func removing(from fields: HTTPFields) -> HTTPFields {
        let tokens = connectionTokens(fields)
        func isRemoved(_ field: HTTPField) -> Bool { isHopByHop(canonical: field.name.canonicalName, connectionTokens: tokens) }
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
