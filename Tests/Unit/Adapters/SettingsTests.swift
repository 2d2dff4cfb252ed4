import Foundation
import HopGateConfiguration
import Testing

@Suite("Settings and .env")
struct SettingsTests {
    func withDotEnv(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-\(UUID().uuidString).env").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func dotEnvNeverOverridesTheEnvironment() throws {
        try withDotEnv("HOP_SERVER_DOMAIN=from-file.example.com\nHOP_LOG_LEVEL=debug\n") { path in
            let settings = try Settings(environment: ["HOP_SERVER_DOMAIN": "from-env.example.com", "PATH": "/bin"], dotEnvPath: path)
            #expect(settings.string("HOP_SERVER_DOMAIN") == "from-env.example.com")
            #expect(settings.source(of: "HOP_SERVER_DOMAIN") == .environment)
            #expect(settings.string("HOP_LOG_LEVEL") == "debug")
            #expect(settings.source(of: "HOP_LOG_LEVEL") == .dotEnv)
            #expect(settings.string("PATH") == nil)
        }
    }

    @Test func dotEnvSyntax() throws {
        let text = """
        # comment
        export HOP_A=plain value # trailing comment

        HOP_B='single # not a comment'
        HOP_C="double\\nline \\"quoted\\""
        HOP_D=
        \r
        """
        try withDotEnv(text) { path in
            let settings = try Settings(environment: [:], dotEnvPath: path)
            #expect(settings.string("HOP_A") == "plain value")
            #expect(settings.string("HOP_B") == "single # not a comment")
            #expect(settings.string("HOP_C") == "double\nline \"quoted\"")
            #expect(settings.string("HOP_D") == nil)
        }
    }

    @Test(arguments: ["JUST_A_WORD", "1BAD=x", "HOP_X='unterminated", "HOP_Y=\"unterminated"])
    func malformedDotEnvLinesNameTheLine(_ line: String) throws {
        try withDotEnv("HOP_OK=1\n\(line)\n") { path in
            let error = #expect(throws: SettingsError.self) { try Settings(environment: [:], dotEnvPath: path) }
            #expect(error?.name.hasSuffix(":2") == true)
        }
    }

    @Test func missingFileIsFine() throws {
        let settings = try Settings(environment: ["HOP_A": "1"], dotEnvPath: "/nonexistent/.env")
        #expect(settings.string("HOP_A") == "1")
    }

    @Test func typedValuesNameTheSettingWhenMalformed() throws {
        let settings = try Settings(environment: ["HOP_N": "12x", "HOP_B": "maybe", "HOP_T": "5 minutes", "HOP_OK": "250ms"], dotEnvPath: nil)
        let number = #expect(throws: SettingsError.self) { try settings.integer("HOP_N", in: 1...10) }
        #expect(number?.description.hasPrefix("HOP_N is '12x'") == true)
        #expect(throws: SettingsError.self) { try settings.boolean("HOP_B") }
        #expect(throws: SettingsError.self) { try settings.duration("HOP_T") }
        #expect(try settings.duration("HOP_OK") == .milliseconds(250))
        let missing = #expect(throws: SettingsError.self) { try settings.required("HOP_MISSING", "a domain name") }
        #expect(missing?.description == "HOP_MISSING is not set; expected a domain name")
    }

    @Test(arguments: [("30s", Duration.seconds(30)), ("2m", .seconds(120)), ("1h", .seconds(3600)), ("1.5", .milliseconds(1500)), ("0ms", .zero)])
    func durations(_ raw: String, _ expected: Duration) {
        #expect(Settings.parseDuration(raw) == expected)
    }
}
