public import HopGateDomain

/// A local service the client forwards to, chosen by path prefix: `api=/api=127.0.0.1:9000`
/// sends `/api/...` to port 9000. The default service has the root prefix.
public struct LocalService: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var prefix: PathPrefix
    public var target: LocalTarget
    /// Whether `/api/users` reaches the service as `/users`.
    public var stripPrefix: Bool

    public init(name: String, prefix: PathPrefix, target: LocalTarget, stripPrefix: Bool = false) {
        self.name = name
        self.prefix = prefix
        self.target = target
        self.stripPrefix = stripPrefix
    }

    /// Parses `NAME=PREFIX=HOST:PORT` (prefix stripping off) or `NAME=PREFIX=HOST:PORT=strip`.
    public init(parsing spec: String) throws(LocalServiceError) {
        let parts = spec.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || (parts.count == 4 && parts[3] == "strip") else {
            throw LocalServiceError(spec: spec, reason: "expected NAME=/PREFIX=HOST:PORT (optionally =strip)")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw LocalServiceError(spec: spec, reason: "the service name may contain only letters, digits, '-' and '_'")
        }
        let prefix: PathPrefix
        do { prefix = try PathPrefix(parsing: parts[1]) } catch { throw LocalServiceError(spec: spec, reason: error.reason) }
        let target: LocalTarget
        do { target = try LocalTarget(parsing: parts[2]) } catch { throw LocalServiceError(spec: spec, reason: error.reason) }
        self.init(name: parts[0], prefix: prefix, target: target, stripPrefix: parts.count == 4)
    }

    public var description: String { "\(name)=\(prefix)=\(target.host):\(target.port)\(stripPrefix ? "=strip" : "")" }
}

/// Why a service specification was refused.
public struct LocalServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    public let spec: String
    public let reason: String
    public var description: String { "invalid service '\(spec)': \(reason)" }
}

extension LocalTarget {
    /// Parses `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (IPv6 as `[::1]:PORT`).
    public init(parsing input: String) throws(LocalServiceError) {
        var rest = Substring(input)
        var scheme = "http"
        for candidate in ["http", "https"] where rest.hasPrefix(candidate + "://") {
            scheme = candidate
            rest = rest.dropFirst(candidate.count + 3)
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":") else {
            throw LocalServiceError(spec: input, reason: "expected HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var host = rest[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !host.contains("/") else {
            throw LocalServiceError(spec: input, reason: "the host is missing")
        }
        guard let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
            throw LocalServiceError(spec: input, reason: "the port must be a number from 1 to 65535")
        }
        self.init(host: String(host), port: port, scheme: scheme)
    }
}
