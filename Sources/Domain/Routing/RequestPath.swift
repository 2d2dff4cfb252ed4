/// A request target's path as routing compares it with path prefixes, so that every spelling of
/// one resource reaches the same route (RFC 3986 §6.2.2, in its order):
///
/// 1. percent-encoded unreserved characters are decoded (`/%61pi` is `/api`, `%2E` is `.`),
///    other escapes get upper-case hex digits (`%2f` is `%2F`, still not a separator);
/// 2. `.` and `..` segments are removed (`/api/../admin` is `/admin`; `..` never climbs above
///    the root);
/// 3. runs of `/` become one (`//api` is `/api`), as nginx's `merge_slashes` does.
///
/// The query and fragment are not part of the path. The asterisk form (`OPTIONS *`) stays `*`.
/// Routing only compares the normalised form: the target is forwarded as the client sent it,
/// unless its route strips the prefix (see ``RouteTable``).
public struct RequestPath: Sendable, Hashable {
    /// The normalised path: starts with `/` (or is `*`), no dot segments, no empty segments
    /// except a trailing `/`.
    public let path: String
    /// What followed the path in the target, from its `?` or `#` on (empty when nothing did).
    public let suffix: Substring

    /// Splits and normalises a request target in origin form (`/api/users?page=2`) or `*`.
    public init(target: String) {
        let end = target.firstIndex { $0 == "?" || $0 == "#" } ?? target.endIndex
        self.suffix = target[end...]
        let rawPath = target[..<end]
        if rawPath == "*" {
            self.path = "*"
            return
        }
        self.path = Self.removingDotSegments(Self.normalisingPercentEncoding(rawPath))
    }

    /// `text` with percent-encoded unreserved characters decoded and the hex digits of the other
    /// escapes upper-cased; a `%` not followed by two hex digits is kept as it is.
    public static func normalisingPercentEncoding(_ text: Substring) -> Substring {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
               let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    bytes.append(decoded)
                } else {
                    bytes.append(contentsOf: [UInt8(ascii: "%"), upperHex(high), upperHex(low)])
                }
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return Substring(decoding: bytes, as: UTF8.self)
    }

    /// `path` without `.` and `..` segments and without empty segments between slashes; always
    /// starts with `/`. A trailing `/` (or a trailing dot segment, which names a directory) is kept.
    static func removingDotSegments(_ path: Substring) -> String {
        if isAlreadyNormal(path) { return String(path) }
        var segments: [Substring] = []
        var trailingSlash = false
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            trailingSlash = false
            switch segment {
            case "": trailingSlash = true
            case ".": trailingSlash = true
            case "..":
                if !segments.isEmpty { segments.removeLast() }
                trailingSlash = true
            default: segments.append(segment)
            }
        }
        var result = "/" + segments.joined(separator: "/")
        if trailingSlash && !segments.isEmpty { result += "/" }
        return result
    }

    /// Whether `path` starts with `/` and has no `//`, `/.` (a dot segment or a name starting
    /// with a dot, checked the long way), so the common case costs one scan.
    private static func isAlreadyNormal(_ path: Substring) -> Bool {
        guard path.utf8.first == UInt8(ascii: "/") else { return false }
        var previousWasSlash = false
        for byte in path.utf8 {
            if previousWasSlash && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return false }
            previousWasSlash = byte == UInt8(ascii: "/")
        }
        return true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func upperHex(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    /// ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
