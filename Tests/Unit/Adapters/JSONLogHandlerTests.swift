import Foundation
import HopGateObservability
import Logging
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test func oneParsableObjectPerLine() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.1234)
        let line = JSONLogHandler.line(
            date: date, level: .warning, message: "tunnel \"refused\"\nsecond line",
            label: "hopgate.server", metadata: ["request_id": "abc", "status": .stringConvertible(502), "tags": ["a", "b"]]
        )
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2026-11-18T11:06:40.123Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["msg"] as? String == "tunnel \"refused\"\nsecond line")
        #expect(object["component"] as? String == "hopgate.server")
        #expect(object["request_id"] as? String == "abc")
        #expect(object["status"] as? String == "502")
        #expect(object["tags"] as? [String] == ["a", "b"])
    }

    @Test func componentMetadataWinsOverTheLabel() throws {
        let line = JSONLogHandler.line(date: Date(), level: .info, message: "m", label: "label", metadata: ["component": "admin"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["component"] as? String == "admin")
    }

    @Test func controlCharactersAreEscaped() throws {
        let line = JSONLogHandler.line(date: Date(), level: .info, message: "a\u{0}b\u{1b}c\u{2028}", label: "l", metadata: [:])
        #expect(line.contains("\\u0000") && line.contains("\\u001b") && line.contains("\\u2028"))
        #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
    }
}
