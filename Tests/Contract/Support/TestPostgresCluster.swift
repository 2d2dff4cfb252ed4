import Foundation
public import HopGatePostgres

/// A PostgreSQL cluster of a test's own (started with `scripts/lib/postgres.sh`), for tests
/// that restart or stop the server and so must not share the suite's cluster.
public struct TestPostgresCluster: Sendable {
    /// Superuser DSN.
    public let dsn: PostgresDSN
    /// The same DSN as text, password included (for `HOP_DB_DSN` of a server process).
    public let url: String
    let directory: String
    let script: String
    var control: [String] { [script, "ctl", directory] }

    /// Restarts the server (fast shutdown: open connections are cut).
    public func restart() async throws {
        try await runCommand(control + ["-m", "fast", "restart"])
    }

    /// Stops the server, keeping its data.
    public func stop() async throws { try await runCommand(control + ["-m", "fast", "stop"]) }

    /// Starts a stopped server again.
    public func start() async throws { try await runCommand(control + ["start"]) }
}

/// Starts a private cluster, runs `body`, and removes the cluster.
public func withTestPostgresCluster<Result>(_ body: (TestPostgresCluster) async throws -> Result) async throws -> Result {
    let script = repositoryRoot.appendingPathComponent("scripts/lib/postgres.sh").path
    let output = try await runCommand([script, "start"])
    var values: [String: String] = [:]
    for line in output.split(separator: "\n") where line.hasPrefix("export ") {
        let assignment = line.dropFirst("export ".count)
        guard let equals = assignment.firstIndex(of: "=") else { continue }
        values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
    }
    guard let directory = values["HOP_TEST_POSTGRES_DIR"], let dsn = values["HOP_TEST_POSTGRES_DSN"] else {
        throw TestEnvironmentError("postgres.sh start printed no cluster: \(output)")
    }
    let cluster = TestPostgresCluster(
        dsn: try PostgresDSN(parsing: dsn), url: dsn, directory: directory, script: script)
    do {
        let result = try await body(cluster)
        try await runCommand([script, "stop", directory])
        return result
    } catch {
        try? await runCommand([script, "stop", directory])
        throw error
    }
}
