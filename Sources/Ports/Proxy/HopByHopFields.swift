import Foundation
public import HTTPTypes

/// The hop-by-hop header fields (RFC 9110 §7.6.1) that never cross a proxy, plus any field the
/// `Connection` header names.
public enum HopByHopFields {
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// `fields` without hop-by-hop fields.
    public static func removing(from fields: HTTPFields) -> HTTPFields {
        var named = names
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                named.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        var result = HTTPFields()
        for field in fields where !named.contains(field.name.canonicalName) {
            result.append(field)
        }
        return result
    }
}
