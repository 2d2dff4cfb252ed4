import ArgumentParser
import Foundation
import HopGateConfiguration
import HopGateDomain
import HopGateObservability
import HopGatePorts
import Logging

/// `hopgate-server serve` (the default): runs the server until SIGTERM or SIGINT.
/// `hopgate-server dev` is the same with the development defaults (SQLite, loopback ports).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server (production defaults: PostgreSQL, ports 80/443)."
    )

    @Flag(name: .long, help: "Use the development defaults (same as `hopgate-server dev`).")
    var dev = false

    @OptionGroup var options: ServerOptions

    func run() async throws {
        try await Self.serve(mode: dev ? .development : .production, envFile: options.envFile, overrides: options.overrides)
    }

    static func serve(mode: ServerConfiguration.Mode, envFile: String, overrides: [String: String], demo: Bool = false) async throws {
        var configuration: ServerConfiguration
        let notices: [SettingNotice]
        let settings: Settings
        do {
            let migrated = try UpstreamSettings.migrate(try Settings(dotEnvPath: envFile), for: .server)
            notices = migrated.notices
            settings = migrated.settings
            configuration = try ServerConfiguration(mode: mode, settings: migrated.settings, overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("configuration error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        (LogFormat(rawValue: configuration.logFormat) ?? .json).bootstrap(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let logger = Logger(label: "server")
        for notice in notices { logger.warning("\(notice.message)", metadata: ["setting": "\(notice.name)"]) }
        if let directory = settings.string(ErrorPageDirectory.setting) {
            ErrorPageTemplates.install(ErrorPageDirectory.load(directory, logger: logger))
        }
        if configuration.adminKey.isEmpty {
            // Development without HOP_ADMIN_API_KEY: a key for this run, printed once.
            configuration.adminKey = ClientAPIKey.generate().secret
            logger.notice("generated an admin API key for this run (set HOP_ADMIN_API_KEY to keep one): \(configuration.adminKey)")
        }
        do {
            let exporter = PrometheusExporter()
            exporter.bootstrap()
            try await ServerRuntime(configuration: configuration, logger: logger, exporter: exporter, demo: demo).run()
        } catch let error as ServerStartupError {
            logger.critical("\(error.message)")
            throw ExitCode.failure
        }
    }
}

/// `hopgate-server dev`: the server with development defaults, one command, nothing to install.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the server with development defaults (SQLite in ./.hopgate, loopback ports)."
    )

    @OptionGroup var options: ServerOptions

    @Flag(name: .long, help: "Also register demo.localhost, run a built-in backend and an in-process client, and print a curl line that works.")
    var demo = false

    func run() async throws {
        try await ServeCommand.serve(mode: .development, envFile: options.envFile, overrides: options.overrides, demo: demo)
    }
}
