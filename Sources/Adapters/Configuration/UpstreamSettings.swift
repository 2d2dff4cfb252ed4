/// What HopGate makes of the settings of upstream HopGate (the Go project `dalbodeule/hop-gate`):
/// the one table that `hopgate-server` (start-up and `check-config`) and `hopgate-client` consult.
///
/// - Settings upstream reads with the same meaning as ours (``unchanged``) are simply used.
/// - Each setting HopGate replaces (``replaced``) gets one ``SettingNotice`` naming the
///   replacement; where the value still makes sense it is carried over onto our setting.
/// - Any other `HOP_*` name that is neither ours (``KnownSettings``) nor upstream's gets a notice
///   too: nothing is silently ignored.
public enum UpstreamSettings {
    /// The programs that read a setting.
    public enum Program: Sendable, Hashable { case server, client }

    /// Upstream settings HopGate reads under the same name with the same meaning.
    public static let unchanged: Set<String> = [
        "HOP_LOG_LEVEL", "HOP_SERVER_HTTP_LISTEN", "HOP_SERVER_HTTPS_LISTEN", "HOP_SERVER_DOMAIN",
        "HOP_ADMIN_API_KEY", "HOP_DB_DSN", "HOP_ACME_EMAIL", "HOP_ACME_USE_STAGING",
        "HOP_CLIENT_SERVER_ADDR", "HOP_CLIENT_DOMAIN", "HOP_CLIENT_API_KEY", "HOP_CLIENT_LOCAL_TARGET",
        "HOP_ERROR_PAGES_DIR",
    ]

    /// Upstream settings HopGate replaces, each with what takes its place.
    public static let replaced: [ReplacedSetting] = [
        .init("HOP_SERVER_DEBUG", .server, replacement: "HOP_CERTIFICATES=self-signed (or `hopgate-server dev`) and HOP_LOG_LEVEL=debug"),
        .init("HOP_SERVER_DTLS_LISTEN", .server, replacement: "HOP_TUNNEL_LISTEN (the gRPC tunnel shares HOP_SERVER_HTTPS_LISTEN unless it is set)"),
        .init("HOP_SERVER_PROXY_DOMAINS", .server, replacement: "domains registered through the admin API (`hopgate-server domains register`), which get certificates by themselves"),
        .init("HOP_SERVER_PROXY_TIMEOUT_SECONDS", .server, replacement: "HOP_PROXY_TIMEOUT",
              carriedOver: .init("HOP_PROXY_TIMEOUT", UpstreamValue.seconds)),
        .init("HOP_ACME_CA_DIR", .server, replacement: "HOP_ACME_DIRECTORY_URL",
              carriedOver: .init("HOP_ACME_DIRECTORY_URL", UpstreamValue.httpsURL)),
        .init("HOP_ACME_CACHE_DIR", .server, replacement: "HOP_DATA_DIR (the ACME account and certificates live in HOP_DATA_DIR/acme)"),
        .init("HOP_ACME_WEBROOT", .server, replacement: "the server's own HTTP-01 responder on HOP_SERVER_HTTP_LISTEN (HOP_ACME_CHALLENGE)"),
        .init("HOP_ACME_EXPECT_IPS", .server, replacement: "no setting: certificates are ordered only for the server's domain and registered domains"),
        .init("HOP_ACME_STANDALONE_ONLY", .server, replacement: "no setting: the running server obtains and renews its certificates itself (HOP_CERTIFICATES=acme)"),
        .init("HOP_DB_MAX_OPEN_CONNS", .server, replacement: "HOP_DB_MAX_CONNECTIONS",
              carriedOver: .init("HOP_DB_MAX_CONNECTIONS", UpstreamValue.connectionCount)),
        .init("HOP_DB_MAX_IDLE_CONNS", .server, replacement: "HOP_DB_CONN_IDLE_TIMEOUT (idle connections close after it; there is no idle-count cap)"),
        .init("HOP_DB_CONN_MAX_LIFETIME", .server, replacement: "HOP_DB_CONN_IDLE_TIMEOUT (connections close after being idle that long, not at an age)",
              carriedOver: .init("HOP_DB_CONN_IDLE_TIMEOUT", UpstreamValue.goDuration)),
        .init("HOP_ERROR_ASSETS_DIR", .server, replacement: "no setting: pages in HOP_ERROR_PAGES_DIR inline their styles and images (or link to another site); nothing is served under /__hopgate_assets__/"),
        .init("HOP_LOKI_", [.server, .client], replacement: "HOP_LOG_FORMAT=json: one JSON object per line on standard output, for Promtail or Grafana Alloy to ship to Loki"),
        .init("HOP_CLIENT_DEBUG", .client, replacement: "HOP_CLIENT_CA_FILE (trust a self-signed server's CA; certificates are always verified) and HOP_LOG_LEVEL=debug"),
    ]

    /// The replaced setting `name` is (by name, or by family prefix such as `HOP_LOKI_`).
    public static func replacement(for name: String) -> ReplacedSetting? {
        replaced.first { $0.matches(name) }
    }

    /// One notice for each replaced setting `program` reads and each unknown `HOP_*` name in
    /// `settings`, in name order. Settings that only the other program reads pass silently.
    public static func notices(in settings: Settings, for program: Program) -> [SettingNotice] {
        settings.names.compactMap { name in
            if let setting = replacement(for: name) {
                guard setting.programs.contains(program) else { return nil }
                return .replaced(name, by: setting, in: settings)
            }
            if KnownSettings.names.contains(name) || unchanged.contains(name) { return nil }
            return .unknown(name)
        }
    }

    /// `settings` with each carried-over upstream value copied onto our setting, unless that
    /// setting is set itself (ours wins), and the notices to report.
    /// - Throws: ``SettingsError`` naming the upstream setting when its value is malformed.
    public static func migrate(_ settings: Settings, for program: Program) throws(SettingsError) -> (settings: Settings, notices: [SettingNotice]) {
        var values = settings.values
        for setting in replaced where setting.programs.contains(program) {
            guard let carried = setting.carriedOver, let raw = settings.string(setting.name), settings.string(carried.setting) == nil else { continue }
            values[carried.setting] = (try carried.convert(raw, setting.name), .upstream)
        }
        return (Settings(values: values), notices(in: settings, for: program))
    }
}
