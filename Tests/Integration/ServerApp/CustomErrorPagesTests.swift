import Foundation
import HopGateTestSupport
import Testing

/// `HOP_ERROR_PAGES_DIR`: the operator's pages replace the built-in ones, a broken one does not.
@Suite("Custom error pages", .serialized)
struct CustomErrorPagesTests {
    static let page404 = """
        <!DOCTYPE html><html><body><h1>Lost at {{ status }} ({{reason}})</h1>
        <p>{{message}}</p><p>{{message_ko}}</p><p id="rid">{{request_id}}</p></body></html>

        """

    @Test("a custom 404 page is served for an unknown host; a broken 502 page falls back with one warning")
    func customNotFoundPage() async throws {
        try await withTemporaryDirectory { directory in
            let pages = directory + "/errors"
            try FileManager.default.createDirectory(atPath: pages, withIntermediateDirectories: true)
            try Self.page404.write(toFile: pages + "/404.html", atomically: true, encoding: .utf8)
            try "<p>{{ oops }}</p>".write(toFile: pages + "/502.html", atomically: true, encoding: .utf8)
            try await GatewayProcesses.withServer(
                dataDirectory: directory + "/data", settings: ["HOP_ERROR_PAGES_DIR": pages]
            ) { server in
                let notFound = try await GatewayProcesses.curl(
                    server, "hopgate.localhost", .http1, ["-i", "-H", "Host: nobody.example.com", "-H", "X-Request-Id: abc-123", "URL/some/path"])
                #expect(notFound.contains("HTTP/1.1 404"), "\(notFound)")
                #expect(notFound.contains("<h1>Lost at 404 (Not Found)</h1>"), "\(notFound)")
                #expect(notFound.contains("<p>No service is published under this name.</p>"))
                #expect(notFound.contains(#"<p id="rid">abc-123</p>"#))
                #expect(notFound.lowercased().contains("content-type: text/html; charset=utf-8"))

                // JSON clients keep getting JSON.
                let json = try await GatewayProcesses.curl(
                    server, "hopgate.localhost", .http2, ["-H", "Host: nobody.example.com", "-H", "Accept: application/json", "URL/"])
                #expect(json.contains(#""success":false"#) && json.contains(#""status":404"#), "\(json)")

                let log = server.process.output
                #expect(Self.occurrences(of: "502.html has the unknown placeholder '{{oops}}'", in: log) == 1, "\(log)")
                #expect(Self.occurrences(of: "no 400.html, 413.html, 504.html in", in: log) == 1, "\(log)")
            }
        }
    }

    @Test("a missing directory gets one warning and the built-in pages")
    func missingDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try await GatewayProcesses.withServer(
                dataDirectory: directory + "/data", settings: ["HOP_ERROR_PAGES_DIR": directory + "/absent"]
            ) { server in
                let page = try await GatewayProcesses.curl(server, "hopgate.localhost", .http1, ["-H", "Host: nobody.example.com", "URL/"])
                #expect(page.contains("<h1>404 Not Found</h1>"), "\(page)")
                #expect(Self.occurrences(of: "/absent is not a directory", in: server.process.output) == 1)
            }
        }
    }

    static func occurrences(of text: String, in output: String) -> Int {
        output.components(separatedBy: text).count - 1
    }
}
