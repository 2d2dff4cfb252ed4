import ArgumentParser

/// `hopgate-server domains …`: the admin command line over the admin REST API.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains",
        abstract: "Register, list, inspect, rotate and unregister domains through the admin API."
    )
}
