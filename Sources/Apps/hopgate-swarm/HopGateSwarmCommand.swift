import ArgumentParser
import Foundation
import HopGateDomain
import HopGateGRPCTransport
import HopGateLocalForwarder
import HopGatePorts
import Logging
import NIOCore
import NIOPosix

/// `hopgate-swarm`: holds many tunnels from one process, each the real client (the gRPC
/// connector, the reconnect loop and the local forwarder of `hopgate-client`) for a domain of its
/// own. A benchmark tool: it times the edge admitting many clients at once, apart from the cost of
/// starting one `hopgate-client` process per tunnel on the bench machine.
///
/// The domains and their API keys come from a file (never from the command line, where `ps`
/// would show the keys), one `DOMAIN KEY` pair per line. Prints one line when every tunnel has
/// been welcomed once, then keeps them up (reconnecting as `hopgate-client` does) until SIGTERM
/// or SIGINT.
@main
struct HopGateSwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hopgate-swarm",
        abstract: "Holds many tunnels from one process, for benchmarks of the edge (one DOMAIN KEY pair per line of --tunnels-file).",
        version: HopGateVersion.current
    )

    @Option(help: "The server's tunnel address, HOST:PORT.") var server: String
    @Option(help: "The TLS server name (SNI) to verify; omit for a plaintext tunnel port.") var serverName: String?
    @Option(help: "PEM roots to verify the server with (default: the system's).") var caFile: String?
    @Option(help: "Where every tunnel forwards its requests, HOST:PORT.") var localTarget: String
    @Option(help: "A file of `DOMAIN KEY` lines, one tunnel each.") var tunnelsFile: String
    @Option(help: "Log level of the tunnels' own messages.") var logLevel: String = "warning"

    /// The entry point: Swift concurrency's jobs run on NIO's event loops from here on (why, and
    /// why it is sound: `HopGateServerCommand.main()`), then the command runs. It must run first,
    /// before any task starts.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    func run() async throws {
        let pairs = try SwarmTunnels.parse(try String(contentsOfFile: tunnelsFile, encoding: .utf8), file: tunnelsFile)
        // HOST:PORT as `hopgate-client` reads its server (IPv6 as `[::1]:PORT`).
        let address: LocalTarget
        do { address = try LocalTarget(parsing: server) } catch { throw ValidationError("--server: \(error)") }
        let target: LocalTarget
        do { target = try LocalTarget(parsing: localTarget) } catch { throw ValidationError("\(error)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
            return handler
        }
        let logger = Logger(label: "swarm")
        let forwarder = PooledHTTP1Forwarder()
        let security: GRPCTunnelConnector.Security = serverName.map { .tls(serverName: $0, caFile: caFile) } ?? .plaintext
        let progress = SwarmProgress(total: pairs.count)
        let started = ContinuousClock.now
        try await withThrowingDiscardingTaskGroup { group in
            for (index, pair) in pairs.enumerated() {
                let router = try LocalServiceRouter(
                    domain: pair.domain, services: [LocalService(name: "default", prefix: .root, target: target)],
                    forwarder: forwarder, logger: logger)
                let client = TunnelClient(
                    connector: GRPCTunnelConnector(host: address.host, port: address.port, security: security, logger: logger),
                    hello: TunnelHello(
                        domain: pair.domain.value, clientAPIKey: pair.key,
                        clientName: "hopgate-swarm", clientVersion: HopGateVersion.current),
                    handler: router, logger: logger
                ) { status in
                    guard case .connected = status, progress.welcomed(index) else { return }
                    FileHandle.standardOutput.write(Data("all \(pairs.count) tunnels up in \(ContinuousClock.now - started)\n".utf8))
                }
                group.addTask { try await client.run() }
            }
        }
        try? await forwarder.shutdown()
    }
}
