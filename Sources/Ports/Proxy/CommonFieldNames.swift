public import HTTPTypes

/// The field names that nearly every request and response carries, each made once in the
/// spellings seen on the wire, so that a head's common fields get their `HTTPField.Name` without
/// a new String, a token check and a lower-casing each (about 1 % of each side's CPU per small
/// request went to making the same dozen names again).
///
/// A name is found only when its bytes are exactly one of the spellings here: the name keeps the
/// spelling it arrived with (`rawName`), as `HTTPField.Name(_:)` would. Anything else, including
/// a known name in an unusual case, is made the usual way by the caller.
public enum CommonFieldNames {
    /// The names, in their usual spelling; each is also found lower-cased (HTTP/2 and HTTP/3 send
    /// names lower-cased).
    static let spellings = [
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
        "Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Length",
        "Content-Range", "Content-Type", "Cookie", "Date", "ETag", "Expires", "Forwarded",
        "If-Modified-Since", "If-None-Match", "Keep-Alive", "Last-Modified", "Location", "Origin",
        "Pragma", "Range", "Referer", "Server", "Set-Cookie", "Strict-Transport-Security", "TE",
        "Transfer-Encoding", "Upgrade", "Vary", "Via", "X-Content-Type-Options",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "X-Request-Id",
    ]

    /// One spelling: its bytes, and the name made from them.
    struct Entry: Sendable {
        let bytes: [UInt8]
        let name: HTTPField.Name
    }

    /// The entries by the length of their spelling (index 0 unused).
    static let byLength: [[Entry]] = {
        var table = [[Entry]](repeating: [], count: (spellings.map(\.utf8.count).max() ?? 0) + 1)
        for spelling in spellings {
            for form in Set([spelling, spelling.lowercased()]).sorted() {
                table[form.utf8.count].append(Entry(bytes: Array(form.utf8), name: HTTPField.Name(form)!))
            }
        }
        return table
    }()

    /// The common name spelled exactly `bytes`, or nil.
    public static func name(spelled bytes: UnsafeRawBufferPointer) -> HTTPField.Name? {
        let table = byLength
        guard bytes.count < table.count else { return nil }
        // The first byte tells most entries of a length apart before the whole comparison.
        for entry in table[bytes.count] where entry.bytes[0] == bytes[0] && entry.bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) {
            return entry.name
        }
        return nil
    }

    /// The common name spelled exactly `spelling`, or nil.
    public static func name(spelled spelling: String) -> HTTPField.Name? {
        var spelling = spelling
        return spelling.withUTF8 { name(spelled: UnsafeRawBufferPointer($0)) }
    }
}
