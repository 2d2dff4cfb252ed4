import ArgumentParser
import HopGateDomain

/// `hopgate-server`: the public edge of HopGate.
@main
struct HopGateServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hopgate-server",
        abstract: "HopGate's public edge: HTTPS for registered domains, the gRPC tunnel endpoint and the admin API.",
        discussion: "Settings come from HOP_* environment variables, an optional .env file and flags (flags win).",
        version: HopGateVersion.current,
        subcommands: [ServeCommand.self, DevCommand.self, CheckConfigCommand.self, DomainsCommand.self, ImportUpstreamCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
