/// A path prefix that matches on segment boundaries: `/service-a` matches `/service-a` and
/// `/service-a/x`, never `/service-ab`. The root prefix `/` matches every path.
public struct PathPrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The normalised prefix: starts with `/`, no trailing `/` except for the root.
    public let value: String

    /// The root prefix, matching everything.
    public static let root = PathPrefix(validated: "/")

    /// Parses a prefix such as `/api` or `/api/`; refuses one without a leading `/`, with a
    /// query, fragment, whitespace, or an empty, `.` or `..` segment. Percent-encoding is
    /// normalised as in ``RequestPath`` (`/%61pi` is `/api`), so prefixes and paths compare alike.
    public init(parsing input: String) throws(PathPrefixError) {
        guard input.hasPrefix("/") else { throw PathPrefixError(input: input, reason: "a path prefix must start with '/'") }
        var trimmed = RequestPath.normalisingPercentEncoding(Substring(input))
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0.isNewline }) {
            throw PathPrefixError(input: input, reason: "a path prefix may not contain '?', '#' or whitespace")
        }
        if trimmed != "/" {
            for segment in trimmed.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            where segment.isEmpty || segment == "." || segment == ".." {
                throw PathPrefixError(input: input, reason: "a path prefix may not contain empty, '.' or '..' segments")
            }
        }
        self.value = String(trimmed)
    }

    private init(validated: String) { self.value = validated }

    /// A prefix holding `value` without validation; only for lookup keys built from paths.
    static func unchecked(_ value: String) -> PathPrefix { PathPrefix(validated: value) }

    /// The number of path segments, 0 for the root.
    public var depth: Int { value == "/" ? 0 : value.utf8.lazy.filter { $0 == UInt8(ascii: "/") }.count }

    /// Whether `path` (without its query) lies under this prefix on a segment boundary.
    public func matches(path: Substring) -> Bool {
        if value == "/" { return true }
        guard path.hasPrefix(value) else { return false }
        let rest = path.dropFirst(value.count)
        return rest.isEmpty || rest.hasPrefix("/")
    }

    public var description: String { value }
    public static func < (lhs: PathPrefix, rhs: PathPrefix) -> Bool { lhs.value < rhs.value }
}

/// Why a string is not a path prefix.
public struct PathPrefixError: Error, Sendable, Hashable, CustomStringConvertible {
    public let input: String
    public let reason: String
    public var description: String { "invalid path prefix '\(input)': \(reason)" }
}
