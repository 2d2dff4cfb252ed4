public import Foundation

/// A process a test starts and always stops: `withChildProcess` terminates it (SIGTERM, then
/// SIGKILL after 2 s) when the body returns or throws.
public final class ChildProcess: @unchecked Sendable {
    // `Process` is not Sendable; this wrapper only calls its thread-safe members
    // (`processIdentifier`, `isRunning`, `terminate`) after `run()`. The output goes to a file
    // that `output` reads: a pipe with `readabilityHandler` (a dispatch source) crashed
    // libdispatch's manager thread once under many concurrent child processes.
    public let process: Process
    private let outputFile: URL

    init(process: Process, outputFile: URL) {
        self.process = process
        self.outputFile = outputFile
    }

    /// Everything the process wrote to stdout and stderr so far.
    public var output: String {
        String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    }

    /// Waits until the output contains `marker` (or the process exits, or `timeout` passes).
    public func waitForOutput(containing marker: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(marker) { return output }
            if !process.isRunning { throw ChildProcessError(message: "process exited (status \(process.terminationStatus)) before printing '\(marker)': \(output.suffix(2000))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcessError(message: "timed out waiting for '\(marker)': \(output.suffix(2000))")
    }

    /// SIGTERM, then SIGKILL if still running after `grace`.
    public func stop(grace: Duration = .seconds(2)) async {
        guard isAlive else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while isAlive && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if isAlive { kill(process.processIdentifier, SIGKILL) }
        while isAlive { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Whether the process still runs. `Process.isRunning` alone is not enough: Foundation learns
    /// of the exit from SIGCHLD, and a full test run once left a client a zombie that Foundation
    /// never reaped, so `stop()` waited for ever. A zombie (or a vanished pid) counts as exited.
    private var isAlive: Bool {
        guard process.isRunning else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }
}

/// A child process that misbehaved.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs `executable` with `arguments`, hands it to `body`, and stops it afterwards.
public func withChildProcess<Result>(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    _ body: (ChildProcess) async throws -> Result
) async throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-child-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outputFile = directory.appendingPathComponent("output")
    FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: outputFile)
    defer { try? handle.close() }
    process.standardOutput = handle
    process.standardError = handle
    let child = ChildProcess(process: process, outputFile: outputFile)
    try process.run()
    do {
        let result = try await body(child)
        await child.stop()
        return result
    } catch {
        await child.stop()
        throw error
    }
}

/// Runs the test backend (`Tests/Integration/Fixtures/backend.py`) on a free loopback port.
public func withTestBackend<Result>(_ body: (_ port: Int) async throws -> Result) async throws -> Result {
    let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Integration/Fixtures/backend.py").path
    return try await withChildProcess("/usr/bin/python3", [script, "0"]) { child in
        let output = try await child.waitForOutput(containing: "ready ")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }),
              let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else {
            throw ChildProcessError(message: "backend printed no port: \(output)")
        }
        return try await body(port)
    }
}
