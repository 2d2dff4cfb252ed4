import ArgumentParser

/// `hopgate-client`: keeps a tunnel to a HopGate server and forwards its requests to a local service.
@main
struct HopGateClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hopgate-client",
        abstract: "Keeps a tunnel to a HopGate server and forwards its requests to a local service.",
        version: "0.1.0"
    )
}
