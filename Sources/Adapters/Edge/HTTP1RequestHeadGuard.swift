import Foundation
import NIOCore
import NIOHTTP1

/// Checks each HTTP/1.1 request head before the application sees it, as RFC 9112 asks of a
/// server in front of others (a proxy must not let a request mean one thing to it and another
/// to the service behind it):
///
/// - exactly one `Host`, else `400` (§3.2);
/// - an absolute-form target (`GET http://other.example/ HTTP/1.1`) replaces `Host` with its own
///   authority (§3.2.2), so routing can never disagree with the target;
/// - a `Transfer-Encoding` other than `chunked` is `501` (§6.1; the body would be forwarded with
///   its coding stripped otherwise);
/// - a target longer than ``HTTP1RequestLimits/maximumTargetBytes`` is `414`; more header fields than
///   ``HTTP1RequestLimits/maximumHeaderCount`` or more header bytes than ``HTTP1RequestLimits/maximumHeaderBytes`` is `431`.
///
/// A refused request gets its status with `Connection: close`, and the connection is closed
/// (``PublicHTTP1Handler`` applies it to each head).
struct HTTP1RequestHeadGuard {
    private let limits: HTTP1RequestLimits

    init(limits: HTTP1RequestLimits) { self.limits = limits }

    /// The response that refuses a request with `status`; the connection is closed after it.
    static func refusal(_ status: HTTPResponseStatus) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders([("Connection", "close"), ("Content-Length", "0")]))
    }

    /// Why `head` is refused, or nil (after rewriting `Host` for an absolute-form target).
    func problem(with head: inout HTTPRequestHead) -> HTTPResponseStatus? {
        if head.uri.utf8.count > limits.maximumTargetBytes { return .uriTooLong }
        if head.headers.count > limits.maximumHeaderCount { return .requestHeaderFieldsTooLarge }
        // One pass over the fields for their size, `Host`s and `Transfer-Encoding`s.
        var bytes = 0
        var hosts = 0
        var codings: [String] = []
        for (name, value) in head.headers {
            bytes += name.utf8.count + value.utf8.count + 4
            if Self.isHost(name) {
                hosts += 1
            } else if Self.isNamed(name, "transfer-encoding") {
                codings.append(value)
            }
        }
        if bytes > limits.maximumHeaderBytes { return .requestHeaderFieldsTooLarge }
        if !codings.isEmpty, codings.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) != ["chunked"] {
            return .notImplemented
        }
        if let authority = Self.absoluteFormAuthority(head.uri) {
            guard !authority.isEmpty else { return .badRequest }
            head.headers.replaceOrAdd(name: "Host", value: authority)
            hosts = 1
        }
        guard hosts == 1 else { return .badRequest }
        return nil
    }

    /// Whether a field name is `Host`, in any case (compared byte by byte, without lower-casing).
    static func isHost(_ name: String) -> Bool { isNamed(name, "host") }

    /// Whether a field name is `lowercased` in any case: only `A`–`Z` are folded.
    static func isNamed(_ name: String, _ lowercased: StaticString) -> Bool {
        guard name.utf8.count == lowercased.utf8CodeUnitCount else { return false }
        return lowercased.withUTF8Buffer { expected in
            name.utf8.elementsEqual(expected) { byte, lower in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == lower
            }
        }
    }

    /// The authority of an absolute-form target (`http://host:port/path`), nil for origin-form.
    static func absoluteFormAuthority(_ target: String) -> String? {
        // Nearly every target is origin-form (`/…`): it is told by its first byte.
        guard let first = target.utf8.first, first | 0x20 == UInt8(ascii: "h") else { return nil }
        let lowered = target.prefix(8).lowercased()
        let schemeLength: Int
        if lowered.hasPrefix("http://") { schemeLength = 7 } else if lowered.hasPrefix("https://") { schemeLength = 8 } else { return nil }
        let rest = target.dropFirst(schemeLength)
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }  // userinfo is never forwarded
        return String(authority)
    }
}
