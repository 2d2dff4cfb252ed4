/// The names of HopGate's own `HOP_*` settings, server's and client's together: one `.env` may
/// serve both programs, so neither warns about the other's settings. A unit test checks that
/// every `HOP_*` name the apps read is listed here.
public enum KnownSettings {
    /// Every setting `hopgate-server` (with its `domains` commands) or `hopgate-client` reads.
    public static let names: Set<String> = [
        // Server: listeners and identity.
        "HOP_SERVER_DOMAIN", "HOP_SERVER_HTTP_LISTEN", "HOP_SERVER_HTTPS_LISTEN", "HOP_SERVER_HTTP_MODE",
        "HOP_SERVER_PUBLIC_HTTPS_PORT", "HOP_ADMIN_LISTEN", "HOP_METRICS_LISTEN", "HOP_TUNNEL_LISTEN",
        "HOP_ADMIN_API_KEY", "HOP_ADMIN_URL", "HOP_DATA_DIR",
        // Server: storage and certificates.
        "HOP_DB_DSN", "HOP_DB_MAX_CONNECTIONS", "HOP_DB_CONN_IDLE_TIMEOUT",
        "HOP_CERTIFICATES", "HOP_ACME_DIRECTORY_URL", "HOP_ACME_USE_STAGING", "HOP_ACME_EMAIL",
        "HOP_ACME_CHALLENGE", "HOP_ACME_CA_FILE",
        // Server: behaviour and limits.
        "HOP_PROXY_TIMEOUT", "HOP_PROXY_MAX_BODY_BYTES", "HOP_HSTS", "HOP_SHUTDOWN_GRACE", "HOP_AUTH_MAX_FAILURES", "HOP_AUTH_LOCKOUT",
        "HOP_SERVER_REQUEST_HEAD_TIMEOUT", "HOP_SERVER_MAX_TARGET_BYTES", "HOP_SERVER_MAX_HEADER_COUNT",
        "HOP_SERVER_MAX_HEADER_BYTES", "HOP_SERVER_H2_MAX_STREAMS", "HOP_SERVER_H2_WINDOW_BYTES",
        "HOP_SERVER_MAX_CONNECTIONS_PER_IP", "HOP_TUNNEL_MAX_STREAMS", "HOP_TUNNEL_POLICY", "HOP_TUNNEL_MAX_PER_DOMAIN",
        // Both programs.
        "HOP_LOG_LEVEL", "HOP_LOG_FORMAT",
        // Client.
        "HOP_CLIENT_SERVER_ADDR", "HOP_CLIENT_DOMAIN", "HOP_CLIENT_API_KEY", "HOP_CLIENT_LOCAL_TARGET",
        "HOP_CLIENT_SERVICES", "HOP_CLIENT_CA_FILE", "HOP_CLIENT_SERVER_NAME", "HOP_CLIENT_PLAINTEXT", "HOP_CLIENT_TUNNELS",
    ]
}
