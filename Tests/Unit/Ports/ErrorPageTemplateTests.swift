import HTTPTypes
import HopGatePorts
import NIOCore
import Testing

@Suite("Error page templates")
struct ErrorPageTemplateTests {
    @Test func placeholdersAreFilled() throws {
        let template = try ErrorPageTemplate(parsing: "<h1>{{status}} {{ reason }}</h1><p>{{message}}</p><p>{{message_ko}}</p>{{request_id}}")
        let page = template.render([.status: "404", .reason: "Not Found", .message: "gone", .messageKorean: "없음", .requestID: "r-1"])
        #expect(page == "<h1>404 Not Found</h1><p>gone</p><p>없음</p>r-1")
    }

    @Test func valuesAreHTMLEscaped() throws {
        let template = try ErrorPageTemplate(parsing: #"<a title="{{request_id}}">{{request_id}}</a>"#)
        let page = template.render([.requestID: #"<script>"x"&'y'</script>"#])
        #expect(page == #"<a title="&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;">&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;</a>"#)
    }

    @Test func upstreamPagesWithoutPlaceholdersAreServedAsTheyAre() throws {
        let text = "<!DOCTYPE html>\n<html><body class=\"a{b}\">404 — 찾을 수 없음 {</body></html>\n"
        #expect(try ErrorPageTemplate(parsing: text).render([:]) == text)
    }

    @Test func valuesAreNotReinterpreted() throws {
        let template = try ErrorPageTemplate(parsing: "{{request_id}}|{{status}}")
        #expect(template.render([.requestID: "{{status}}", .status: "500"]) == "{{status}}|500")
    }

    @Test(arguments: [
        ("<p>{{ oops }}</p>", ErrorPageTemplateError.Code.unknownPlaceholder, "unknown placeholder '{{oops}}' at line 1"),
        ("a\nb\n{{status", .unclosedPlaceholder, "'{{' without '}}' at line 3"),
        ("{{}}", .unknownPlaceholder, "unknown placeholder '{{}}'"),
        (String(repeating: "x", count: ErrorPageTemplate.maximumBytes + 1), .tooLarge, "larger than 256 KiB"),
    ])
    func brokenTemplatesAreRefused(_ text: String, _ code: ErrorPageTemplateError.Code, _ expected: String) {
        #expect {
            _ = try ErrorPageTemplate(parsing: text)
        } throws: { error in
            guard let error = error as? ErrorPageTemplateError else { return false }
            return error.code == code && error.message.contains(expected)
        }
    }

    @Test func anErrorPageUsesTheTemplateForItsStatus() throws {
        let templates = ErrorPageTemplates([404: try ErrorPageTemplate(parsing: "<b>{{status}} {{message}} {{request_id}}</b>")])
        let (head, body) = ErrorPage.unknownHost.response(for: [.accept: "text/html"], requestID: "<x>", templates: templates)
        #expect(head.status == .notFound)
        #expect(head.headerFields[.contentType] == "text/html; charset=utf-8")
        #expect(head.headerFields[.contentLength] == "\(body.readableBytes)")
        #expect(String(buffer: body) == "<b>404 No service is published under this name. &lt;x&gt;</b>")

        // Other statuses, and JSON clients, keep the built-in answers.
        let (_, other) = ErrorPage.noTunnel.response(for: [.accept: "text/html"], requestID: "r", templates: templates)
        #expect(String(buffer: other).contains("<h1>502 Bad Gateway</h1>"))
        let (_, json) = ErrorPage.unknownHost.response(for: [.accept: "application/json"], requestID: "r", templates: templates)
        #expect(String(buffer: json).hasPrefix(#"{"success":false,"status":404"#))
    }
}
