public import HTTPTypes
import HopGateDomain
public import HopGatePorts
import NIOCore

/// What the plain-HTTP listener does with requests that are not ACME HTTP-01 challenges.
public enum PlainHTTPPolicy: Sendable {
    /// `308 Permanent Redirect` to the same URL on HTTPS (method and body are kept by clients).
    /// `httpsPort` is read per request, so it can be the port the HTTPS listener really bound;
    /// 443 is left out of the `Location`.
    case redirectToHTTPS(httpsPort: @Sendable () -> Int)
    /// Proxy like the HTTPS edge (behind a load balancer that terminates TLS, or in tests).
    case proxy
}

/// Answers requests on the plain-HTTP listener: `/.well-known/acme-challenge/<token>` from the
/// ``ChallengeResponder`` (404 when it has no such token), everything else by the
/// ``PlainHTTPPolicy``.
struct PlainHTTPResponder: Sendable {
    static let challengePrefix = "/.well-known/acme-challenge/"

    let policy: PlainHTTPPolicy
    let challenges: (any ChallengeResponder)?
    let router: PublicRequestRouter

    nonisolated(nonsending) func handle(
        _ request: HTTPRequest, peer: PeerAddress,
        requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>
    ) async throws {
        let path = request.path ?? "/"
        if path.hasPrefix(Self.challengePrefix) {
            let token = String(path.dropFirst(Self.challengePrefix.count))
            let answer = Self.isToken(token) && (request.method == .get || request.method == .head)
                ? await challenges?.http01KeyAuthorization(token: token) : nil
            if let answer {
                try await Self.send(.ok, text: answer, for: request, to: response)
            } else {
                try await Self.send(.notFound, text: "no such ACME challenge / 해당 ACME 챌린지가 없습니다\n", for: request, to: response)
            }
            return
        }
        switch policy {
        case .proxy:
            try await router.handle(request, peer: peer, scheme: "http", requestBody: requestBody, response: response)
        case .redirectToHTTPS(let httpsPort):
            guard let location = Self.httpsLocation(for: request, httpsPort: httpsPort()) else {
                try await Self.send(.badRequest, text: "missing or invalid Host header / Host 헤더가 없거나 잘못되었습니다\n", for: request, to: response)
                return
            }
            var head = HTTPResponse(status: .permanentRedirect)
            head.headerFields[.location] = location
            try await Self.send(head, text: "moved to / 이동: \(location)\n", for: request, to: response)
        }
    }

    /// `https://host[:port]/path?query` for a request's authority, or nil when it has none or it
    /// is not a host name or address.
    static func httpsLocation(for request: HTTPRequest, httpsPort: Int) -> String? {
        guard let authority = request.authority else { return nil }
        let host: String
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            host = String(authority[...end])  // [IPv6], kept bracketed
        } else {
            host = String(authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
            guard (try? DomainName(parsing: host)) != nil || IPAddressLiteral.isIPv4(host) else { return nil }
        }
        let port = httpsPort == 443 ? "" : ":\(httpsPort)"
        let path = request.path.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/"
        return "https://\(host)\(port)\(path)"
    }

    /// ACME tokens are base64url (RFC 8555 §8.1).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 256
            && text.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func send(_ status: HTTPResponse.Status, text: String, for request: HTTPRequest, to response: PartWriter<ExchangeResponsePart>) async throws {
        try await send(HTTPResponse(status: status), text: text, for: request, to: response)
    }

    private static func send(_ head: HTTPResponse, text: String, for request: HTTPRequest, to response: PartWriter<ExchangeResponsePart>) async throws {
        var head = head
        head.headerFields[.contentType] = "text/plain; charset=utf-8"
        head.headerFields[.contentLength] = "\(text.utf8.count)"
        head.headerFields[.cacheControl] = "no-store"
        try await response.write(.head(head))
        if request.method != .head { try await response.write(.body(ByteBuffer(string: text))) }
        try await response.write(.end(nil))
    }
}

private extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
