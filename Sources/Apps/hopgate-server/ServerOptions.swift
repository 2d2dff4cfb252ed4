import ArgumentParser

/// The options `serve` and `dev` share: the `.env` file and the listen addresses and store that
/// override the environment.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the .env file to read.")
    var envFile: String = ".env"

    @Option(name: .long, help: "Admin API address HOST:PORT (overrides HOP_ADMIN_LISTEN).")
    var adminListen: String?

    @Option(name: .long, help: "Domain store: postgres://… or sqlite:/path (overrides HOP_DB_DSN).")
    var dbDSN: String?

    @Option(name: .long, help: "Public HTTP address HOST:PORT (overrides HOP_SERVER_HTTP_LISTEN).")
    var httpListen: String?

    @Option(name: .long, help: "Public HTTPS address HOST:PORT (overrides HOP_SERVER_HTTPS_LISTEN).")
    var httpsListen: String?

    @Option(name: .long, help: "A plaintext gRPC tunnel port of its own, HOST:PORT (overrides HOP_TUNNEL_LISTEN; default: the tunnel shares the HTTPS port).")
    var tunnelListen: String?

    /// The settings these options override, by their environment names.
    var overrides: [String: String] {
        var values: [String: String] = [:]
        if let adminListen { values["HOP_ADMIN_LISTEN"] = adminListen }
        if let dbDSN { values["HOP_DB_DSN"] = dbDSN }
        if let httpListen { values["HOP_SERVER_HTTP_LISTEN"] = httpListen }
        if let httpsListen { values["HOP_SERVER_HTTPS_LISTEN"] = httpsListen }
        if let tunnelListen { values["HOP_TUNNEL_LISTEN"] = tunnelListen }
        return values
    }
}
