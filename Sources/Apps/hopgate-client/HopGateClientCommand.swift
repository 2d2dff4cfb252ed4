import ArgumentParser
import Foundation
import HopGateConfiguration
import HopGateDomain
import HopGateGRPCTransport
import HopGateLocalForwarder
import HopGateObservability
import HopGatePorts
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `hopgate-client`: keeps a tunnel to a HopGate server and forwards its requests to a local service.
@main
struct HopGateClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hopgate-client",
        abstract: "Keeps a tunnel to a HopGate server and forwards its requests to a local service.",
        discussion: "Settings come from flags, then HOP_CLIENT_* environment variables, then .env.",
        version: HopGateVersion.current
    )

    @OptionGroup var options: ClientOptions

    /// The entry point: Swift concurrency's jobs run on NIO's event loops from here on (why, and
    /// why it is sound: `HopGateServerCommand.main()`), then the command runs. It must run first,
    /// before any task starts.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    func run() async throws {
        let configuration: ClientConfiguration
        let notices: [SettingNotice]
        do {
            let migrated = try UpstreamSettings.migrate(try Settings(dotEnvPath: options.envFile), for: .client)
            notices = migrated.notices
            configuration = try ClientConfiguration(options: options, settings: migrated.settings)
        } catch {
            FileHandle.standardError.write(Data("configuration error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        (LogFormat(rawValue: configuration.logFormat) ?? .text).bootstrap(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let logger = Logger(label: "client")
        for notice in notices { logger.warning("\(notice.message)", metadata: ["setting": "\(notice.name)"]) }
        let forwarder = PooledHTTP1Forwarder()
        let router = try LocalServiceRouter(
            domain: configuration.domain, services: configuration.services, forwarder: forwarder, logger: Logger(label: "requests"))
        let security: GRPCTunnelConnector.Security = configuration.plaintext
            ? .plaintext
            : .tls(serverName: configuration.tlsServerName, caFile: configuration.caFile)
        let connector = GRPCTunnelConnector(
            host: configuration.serverHost, port: configuration.serverPort, security: security, logger: Logger(label: "tunnel"))
        let hello = TunnelHello(
            domain: configuration.domain.value, clientAPIKey: configuration.apiKey.secret,
            clientName: "hopgate-client", clientVersion: HopGateVersion.current,
            services: configuration.services.map {
                TunnelServiceAdvertisement(name: $0.name, pathPrefix: $0.prefix.description, stripPrefix: $0.stripPrefix)
            })
        // Each tunnel is a connection of its own with its own hello, reconnecting on its own;
        // the server pools them on the domain's route.
        let clients = (0..<configuration.tunnels).map { _ in
            TunnelClient(connector: connector, hello: hello, handler: router, logger: logger) { status in
                switch status {
                case .connecting(let attempt):
                    logger.notice("connecting to \(configuration.serverHost):\(configuration.serverPort) (attempt \(attempt))")
                case .connected(let welcome):
                    logger.notice("tunnel up for \(welcome.domain) (tunnel \(welcome.tunnelID), server \(welcome.serverVersion))")
                case .disconnected(let reason, let retryIn):
                    logger.notice("tunnel down: \(reason); retrying in \(retryIn)")
                }
            }
        }
        let refused = RefusalFlag()
        // SIGTERM: the client leaves — the server sends it no new requests, those in flight finish
        // (within 30 s), then it exits 0.
        let service = LeavingService(clients: clients, logger: logger) { refusal in
            logger.critical("the server refused the tunnel: \(refusal.reason)")
            refused.set()
        }
        // The service is named here: without a name, ServiceLifecycle describes the service with
        // `"\(service)"`, a reflection of the whole value that costs a new process milliseconds
        // of failed protocol-conformance scans (a tenth of a client's start-up, measured by perf).
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: service, serviceName: "tunnel-client")], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: groupConfiguration)
        let outcome: Result<Void, any Error>
        do { try await group.run(); outcome = .success(()) } catch { outcome = .failure(error) }
        try? await forwarder.shutdown()
        if refused.isSet { throw ExitCode.failure }
        if case .failure(let error) = outcome {
            logger.critical("stopped: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Runs the tunnel clients together; on graceful shutdown they all leave at once (in-flight
/// requests finish first). A refusal (wrong key, unknown domain) stops them all.
struct LeavingService: Service {
    let clients: [TunnelClient]
    let logger: Logger
    let onRefusal: @Sendable (TunnelRefusal) -> Void

    func run() async throws {
        let clients = self.clients
        let logger = self.logger
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    for client in clients {
                        group.addTask { try await client.run() }
                    }
                }
            } onGracefulShutdown: {
                logger.notice("leaving: the server sends no new requests; those in flight finish")
                for client in clients { client.leave() }
            }
        } catch let refusal as TunnelRefusal {
            onRefusal(refusal)
        }
    }
}

/// Set when the server refused the tunnel for good (wrong key, unknown domain).
final class RefusalFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
