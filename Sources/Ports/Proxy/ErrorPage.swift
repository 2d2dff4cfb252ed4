public import HTTPTypes
public import NIOCore

/// The edge's own answers (404 unknown host, 502 no tunnel, 504 too slow, …): a bilingual
/// (English/Korean) HTML page, or JSON when the client asks for JSON.
public struct ErrorPage: Sendable {
    public let status: HTTPResponse.Status
    /// What went wrong, for the `kind` label of ``HopGateMetrics/proxyErrors``.
    public let kind: String
    public let english: String
    public let korean: String

    public init(status: HTTPResponse.Status, kind: String, english: String, korean: String) {
        self.status = status
        self.kind = kind
        self.english = english
        self.korean = korean
    }

    public static let unknownHost = ErrorPage(
        status: .notFound, kind: "unknown_host", english: "No service is published under this name.", korean: "이 이름으로 공개된 서비스가 없습니다.")
    public static let noTunnel = ErrorPage(
        status: .badGateway, kind: "no_tunnel", english: "The service is registered, but its tunnel client is not connected.",
        korean: "서비스는 등록되어 있지만 터널 클라이언트가 연결되어 있지 않습니다.")
    public static let upstreamFailed = ErrorPage(
        status: .badGateway, kind: "upstream", english: "The service behind the tunnel failed to answer.", korean: "터널 뒤의 서비스가 응답하지 못했습니다.")
    public static let timeout = ErrorPage(
        status: .gatewayTimeout, kind: "timeout", english: "The service behind the tunnel took too long to answer.", korean: "터널 뒤의 서비스가 너무 오래 응답하지 않았습니다.")
    public static let badRequest = ErrorPage(
        status: .badRequest, kind: "bad_request", english: "The request is malformed.", korean: "요청 형식이 잘못되었습니다.")
    public static let tooLarge = ErrorPage(
        status: .contentTooLarge, kind: "too_large", english: "The request body is too large.", korean: "요청 본문이 너무 큽니다.")

    /// The response head and body for a request with these header fields. `requestID` is
    /// escaped for the page's language (HTML or JSON) whatever it holds. An HTML answer uses the
    /// operator's page for this status from `templates` (by default the installed ones,
    /// ``ErrorPageTemplates/installed``) when there is one.
    public func response(
        for requestFields: HTTPFields, requestID: String, templates: ErrorPageTemplates? = nil
    ) -> (HTTPResponse, ByteBuffer) {
        let wantsJSON = requestFields[values: .accept].contains { $0.contains("application/json") }
            && !requestFields[values: .accept].contains { $0.contains("text/html") }
        let body: String
        let type: String
        if wantsJSON {
            body = #"{"success":false,"status":\#(status.code),"error":"\#(english)","error_ko":"\#(korean)","request_id":\#(JSONString.quoted(requestID))}"#
            type = "application/json; charset=utf-8"
        } else if let template = (templates ?? .installed).template(for: status.code) {
            body = template.render([
                .status: "\(status.code)", .reason: status.reasonPhrase, .message: english, .messageKorean: korean,
                .requestID: requestID,
            ])
            type = "text/html; charset=utf-8"
        } else {
            body = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>\(status.code) \(status.reasonPhrase)</title>
                <style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222}small{color:#888}</style></head>
                <body><h1>\(status.code) \(status.reasonPhrase)</h1>
                <p>\(english)</p><p lang="ko">\(korean)</p>
                <p><small>HopGate · request \(HTMLText.escaped(requestID))</small></p></body></html>

                """
            type = "text/html; charset=utf-8"
        }
        let buffer = ByteBuffer(string: body)
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: type, .contentLength: "\(buffer.readableBytes)", .cacheControl: "no-store",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ])
        return (head, buffer)
    }
}
