import HTTPTypes
import HopGatePorts
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Turns a public HTTP/1.1 connection's NIOHTTP1 request parts into HTTPTypes' parts (for
/// ``PublicHTTP1Handler``): `NIOHTTPTypesHTTP1.HTTP1ToHTTPServerCodec`'s conversion with a
/// cheaper request head.
///
/// The library's conversion parses every request target as a URL (Foundation's `URLComponents`)
/// to find the path of an absolute-form target, and makes every field name anew (lower-cased and
/// checked). Nearly every target is origin-form (`/…`), whose path is the target itself — the
/// library returns it unchanged too — and nearly every field name is a common one
/// (``CommonFieldNames``). Anything else (`*`, absolute-form, an unusual name) goes the library's
/// way, so the result is always the request the library would make. The responses go out through
/// ``HTTP1ResponseEncoder``.
enum HTTPTypesServerCodec {
    /// A request part as HTTPTypes' part.
    /// - Throws: a head whose method is not a token.
    static func requestPart(_ part: HTTPServerRequestPart, secure: Bool) throws -> HTTPRequestPart {
        switch part {
        case .head(let head): .head(try request(from: head, secure: secure))
        case .body(let body): .body(body)
        case .end(let trailers): .end(trailers.map { HTTPFields($0, splitCookie: false) })
        }
    }

    /// `head` as the request `HTTPRequest(head, secure:splitCookie: false)` makes: the method,
    /// the scheme, the first `Host` as the authority (and not a field), the target as the path,
    /// the other fields in order (those whose name is not a token are dropped, as there).
    /// - Throws: a method that is not a token.
    static func request(from head: HTTPRequestHead, secure: Bool) throws -> HTTPRequest {
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            return try HTTPRequest(head, secure: secure, splitCookie: false)
        }
        let method = try HTTPRequest.Method(head.method)
        var authority: String?
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            if authority == nil, HTTP1RequestHeadGuard.isHost(name) {
                authority = value
                continue
            }
            guard let fieldName = CommonFieldNames.name(spelled: name) ?? HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return HTTPRequest(method: method, scheme: secure ? "https" : "http", authority: authority, path: head.uri, headerFields: fields)
    }
}
