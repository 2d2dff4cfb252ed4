import Foundation
import HopGateConfiguration
import Testing

/// Settings brought from upstream HopGate: log-level spellings, one notice per replaced
/// setting naming its replacement, unknown names, and values carried over onto ours.
@Suite("Upstream HopGate settings")
struct UpstreamSettingsTests {
    func notices(_ environment: [String: String], _ program: UpstreamSettings.Program = .server) throws -> [SettingNotice] {
        try UpstreamSettings.migrate(Settings(environment: environment, dotEnvPath: nil), for: program).notices
    }

    func migrated(_ environment: [String: String], _ program: UpstreamSettings.Program = .server) throws -> Settings {
        try UpstreamSettings.migrate(Settings(environment: environment, dotEnvPath: nil), for: program).settings
    }

    @Test("HOP_LOG_LEVEL takes swift-log's names and upstream's warn, in any case", arguments: [
        ("warn", "warning"), ("WARN", "warning"), ("Warning", "warning"), ("debug", "debug"), ("INFO", "info"),
        ("error", "error"), ("trace", "trace"), ("notice", "notice"), ("critical", "critical"), (" info ", "info"),
    ])
    func logLevelSpellings(_ raw: String, _ level: String) throws {
        #expect(try LogLevelSetting.parse(raw) == level)
    }

    @Test("an unknown log level is refused by the setting's name", arguments: ["loud", "", "warnings", "fatal"])
    func logLevelRefused(_ raw: String) {
        let error = #expect(throws: SettingsError.self) { try LogLevelSetting.parse(raw) }
        #expect(error?.name == "HOP_LOG_LEVEL")
        #expect(error?.description.contains("warn") == true)
    }

    @Test("each replaced upstream setting gets one notice naming its replacement", arguments: [
        ("HOP_SERVER_DEBUG", "true", UpstreamSettings.Program.server, "HOP_CERTIFICATES=self-signed"),
        ("HOP_SERVER_DTLS_LISTEN", ":8443", .server, "HOP_TUNNEL_LISTEN"),
        ("HOP_SERVER_PROXY_DOMAINS", "a.example.com,b.example.com", .server, "hopgate-server domains register"),
        ("HOP_SERVER_PROXY_TIMEOUT_SECONDS", "15", .server, "HOP_PROXY_TIMEOUT"),
        ("HOP_ACME_CA_DIR", "https://acme-staging-v02.api.letsencrypt.org/directory", .server, "HOP_ACME_DIRECTORY_URL"),
        ("HOP_ACME_CACHE_DIR", "./acme-cache", .server, "HOP_DATA_DIR"),
        ("HOP_ACME_WEBROOT", "./acme-webroot", .server, "HOP_ACME_CHALLENGE"),
        ("HOP_ACME_EXPECT_IPS", "1.2.3.4", .server, "registered domains"),
        ("HOP_ACME_STANDALONE_ONLY", "false", .server, "HOP_CERTIFICATES=acme"),
        ("HOP_DB_MAX_OPEN_CONNS", "10", .server, "HOP_DB_MAX_CONNECTIONS"),
        ("HOP_DB_MAX_IDLE_CONNS", "5", .server, "HOP_DB_CONN_IDLE_TIMEOUT"),
        ("HOP_DB_CONN_MAX_LIFETIME", "30m", .server, "HOP_DB_CONN_IDLE_TIMEOUT"),
        ("HOP_LOKI_ENABLE", "true", .server, "HOP_LOG_FORMAT=json"),
        ("HOP_LOKI_ENDPOINT", "http://loki:3100/loki/api/v1/push", .server, "HOP_LOG_FORMAT=json"),
        ("HOP_LOKI_TENANT_ID", "tenant", .server, "HOP_LOG_FORMAT=json"),
        ("HOP_LOKI_USERNAME", "loki-user", .server, "HOP_LOG_FORMAT=json"),
        ("HOP_LOKI_PASSWORD", "loki-secret", .client, "HOP_LOG_FORMAT=json"),
        ("HOP_LOKI_STATIC_LABELS", "app=hop-gate", .client, "HOP_LOG_FORMAT=json"),
        ("HOP_CLIENT_DEBUG", "true", .client, "HOP_CLIENT_CA_FILE"),
    ])
    func replacedSettingNamesItsReplacement(_ name: String, _ value: String, _ program: UpstreamSettings.Program, _ replacement: String) throws {
        let found = try notices([name: value, "HOP_SERVER_DOMAIN": "hopgate.example.com"], program)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.name == name)
        #expect(found.first?.message.hasPrefix("\(name) is an upstream HopGate setting") == true)
        #expect(found.first?.message.contains(replacement) == true, "\(found)")
        #expect(found.first?.message.contains(value) == false, "a notice never repeats the value")
    }

    @Test("the other program's settings pass silently; the client warns only about its own")
    func programsStayApart() throws {
        let shared = ["HOP_SERVER_DEBUG": "true", "HOP_CLIENT_DEBUG": "true", "HOP_CLIENT_DOMAIN": "a.example.com", "HOP_DB_DSN": "sqlite:x"]
        #expect(try notices(shared, .server).map(\.name) == ["HOP_SERVER_DEBUG"])
        #expect(try notices(shared, .client).map(\.name) == ["HOP_CLIENT_DEBUG"])
    }

    @Test("unknown HOP_* names are warned about by name, from the environment and from .env")
    func unknownNames() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-\(UUID().uuidString).env").path
        try "HOP_SERVER_DOMIAN=typo.example.com\nOTHER=1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try Settings(environment: ["HOP_PROXY_TIMEOUTS": "5s", "HOP_LOG_LEVEL": "warn", "PATH": "/bin"], dotEnvPath: path)
        let found = try UpstreamSettings.migrate(settings, for: .server).notices
        #expect(found.map(\.name) == ["HOP_PROXY_TIMEOUTS", "HOP_SERVER_DOMIAN"])
        #expect(found.allSatisfy { $0.message == "\($0.name) is not a HopGate setting (a typo?); it is ignored" })
        #expect(try notices(["HOP_PROXY_TIMEOUTS": "5s"], .client).map(\.name) == ["HOP_PROXY_TIMEOUTS"])
    }

    @Test("our own settings and upstream's unchanged ones raise no notice")
    func knownNamesAreQuiet() throws {
        var environment: [String: String] = [:]
        for name in KnownSettings.names.union(UpstreamSettings.unchanged) { environment[name] = "x" }
        #expect(try notices(environment, .server).isEmpty)
        #expect(try notices(environment, .client).isEmpty)
    }

    @Test("supported upstream settings are carried over onto ours")
    func carriedOver() throws {
        let settings = try migrated([
            "HOP_SERVER_PROXY_TIMEOUT_SECONDS": "15", "HOP_DB_MAX_OPEN_CONNS": "25", "HOP_DB_CONN_MAX_LIFETIME": "1h30m",
            "HOP_ACME_CA_DIR": "https://127.0.0.1:14000/dir",
        ])
        #expect(try settings.duration("HOP_PROXY_TIMEOUT") == .seconds(15))
        #expect(try settings.integer("HOP_DB_MAX_CONNECTIONS", in: 1...1000) == 25)
        #expect(try settings.duration("HOP_DB_CONN_IDLE_TIMEOUT") == .seconds(5400))
        #expect(settings.string("HOP_ACME_DIRECTORY_URL") == "https://127.0.0.1:14000/dir")
        #expect(settings.source(of: "HOP_PROXY_TIMEOUT") == .upstream)
        let found = try notices(["HOP_DB_MAX_OPEN_CONNS": "25"])
        #expect(found.first?.message.hasSuffix("its value is used as HOP_DB_MAX_CONNECTIONS (rename it)") == true, "\(found)")
    }

    @Test("our own setting wins over the upstream one, and the notice says so")
    func oursWins() throws {
        let environment = ["HOP_SERVER_PROXY_TIMEOUT_SECONDS": "15", "HOP_PROXY_TIMEOUT": "90s"]
        #expect(try migrated(environment).duration("HOP_PROXY_TIMEOUT") == .seconds(90))
        let found = try notices(environment)
        #expect(found.map(\.name) == ["HOP_SERVER_PROXY_TIMEOUT_SECONDS"])
        #expect(found.first?.message.hasSuffix("it is ignored because HOP_PROXY_TIMEOUT is set") == true, "\(found)")
    }

    @Test("the client does not carry over the server's settings")
    func clientCarriesNothingOfTheServer() throws {
        #expect(try migrated(["HOP_DB_MAX_OPEN_CONNS": "25"], .client).string("HOP_DB_MAX_CONNECTIONS") == nil)
    }

    @Test("a malformed upstream value is refused by the upstream setting's name", arguments: [
        ("HOP_SERVER_PROXY_TIMEOUT_SECONDS", "abc"), ("HOP_SERVER_PROXY_TIMEOUT_SECONDS", "0"),
        ("HOP_SERVER_PROXY_TIMEOUT_SECONDS", "15s"), ("HOP_DB_MAX_OPEN_CONNS", "-5"), ("HOP_DB_MAX_OPEN_CONNS", "5000"),
        ("HOP_DB_CONN_MAX_LIFETIME", "forever"), ("HOP_DB_CONN_MAX_LIFETIME", "0s"), ("HOP_DB_CONN_MAX_LIFETIME", "30"),
        ("HOP_ACME_CA_DIR", "http://acme.example.com/directory"),
    ])
    func malformedUpstreamValue(_ name: String, _ value: String) throws {
        let error = #expect(throws: SettingsError.self) { try migrated([name: value]) }
        #expect(error?.name == name)
    }

    @Test("Go durations as upstream wrote them", arguments: [
        ("30m", 1800.0), ("1h", 3600), ("1h30m", 5400), ("90s", 90), ("500ms", 0.5), ("1.5h", 5400), ("2m30s", 150),
    ])
    func goDurations(_ raw: String, _ seconds: Double) throws {
        let settings = try migrated(["HOP_DB_CONN_MAX_LIFETIME": raw])
        #expect(try settings.duration("HOP_DB_CONN_IDLE_TIMEOUT") == .milliseconds(Int64(seconds * 1000)))
    }

    /// Every `HOP_*` name the apps read must be listed, or users setting it would be told it is unknown.
    @Test("every HOP_* name in Sources/Apps is a known setting")
    func appsReadOnlyKnownSettings() throws {
        let apps = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/Apps")
        let files = try #require(FileManager.default.enumerator(atPath: apps.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        var names: Set<String> = []
        for file in files {
            let text = try String(contentsOf: apps.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: /"(HOP_[A-Z0-9_]*[A-Z0-9])"/) { names.insert(String(match.1)) }
        }
        #expect(names.count > 30, "the scan found the apps' settings")
        let unknown = names.filter { !KnownSettings.names.contains($0) && !UpstreamSettings.unchanged.contains($0) }
        #expect(unknown.isEmpty, "add these to KnownSettings.names: \(unknown.sorted())")
    }
}
