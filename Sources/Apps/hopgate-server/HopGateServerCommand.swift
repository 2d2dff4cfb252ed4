import ArgumentParser
import HopGateDomain
import NIOCore
import NIOPosix

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

    /// The entry point: Swift concurrency's jobs run on NIO's event loops from here on, then the
    /// command runs.
    ///
    /// Without this, every hand-over between a channel and a task (a request part read, a
    /// response part written, a continuation resumed) moved between an event-loop thread and a
    /// thread of Swift's cooperative pool, and usually woke one. NIO enqueues a job on the event
    /// loop that enqueues it, when that is one of its loops, so a task resumed by a channel runs
    /// on the channel's thread next (Vapor's templates do the same). It is sound because no task
    /// here blocks for long, as was already required on the cooperative pool: SQLite's calls have
    /// a thread of their own (`NIOThreadPool`), only small local files (certificates, state) are
    /// read in place, and NIO refuses `EventLoopFuture.wait()` on a loop. It must run first,
    /// before any task starts.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}
