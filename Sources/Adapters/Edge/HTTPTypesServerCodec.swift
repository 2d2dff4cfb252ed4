import HTTPTypes
import HopGatePorts
package import NIOCore
package import NIOHTTP1
package import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Turns a public HTTP/1.1 connection's NIOHTTP1 request parts into HTTPTypes' parts, and the
/// response parts back: `NIOHTTPTypesHTTP1.HTTP1ToHTTPServerCodec` with a cheaper request head.
///
/// The library's conversion parses every request target as a URL (Foundation's `URLComponents`)
/// to find the path of an absolute-form target, and makes every field name anew (lower-cased and
/// checked). Nearly every target is origin-form (`/…`), whose path is the target itself — the
/// library returns it unchanged too — and nearly every field name is a common one
/// (``CommonFieldNames``). Anything else (`*`, absolute-form, an unusual name) goes the library's
/// way, so the result is always the request the library would make. The response side is the
/// library's own conversion.
package final class HTTPTypesServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    /// Whether the connection is HTTPS (the requests' scheme).
    private let secure: Bool

    package init(secure: Bool) {
        self.secure = secure
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            do {
                context.fireChannelRead(wrapInboundOut(.head(try Self.request(from: head, secure: secure))))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            context.write(wrapOutboundOut(.head(HTTPResponseHead(response))), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            context.write(wrapOutboundOut(.end(trailers.map(HTTPHeaders.init))), promise: promise)
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
