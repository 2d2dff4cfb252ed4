public import Foundation

/// A process a test starts and always stops: `withChildProcess` terminates it (SIGTERM, then
/// SIGKILL after 2 s) when the body returns or throws.
public final class ChildProcess: @unchecked Sendable {
    // `Process` is not Sendable; this wrapper only calls its thread-safe members
    // (`processIdentifier`, `isRunning`, `terminate`) after `run()`, and `output` is guarded.
    public let process: Process
    private let outputLock = NSLock()
    private var outputText = ""

    init(process: Process) { self.process = process }

    /// Everything the process wrote to stdout and stderr so far.
    public var output: String {
        outputLock.lock()
        defer { outputLock.unlock() }
        return outputText
    }

    fileprivate func append(_ data: Data) {
        outputLock.lock()
        outputText += String(decoding: data, as: UTF8.self)
        outputLock.unlock()
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
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
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
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let child = ChildProcess(process: process)
    pipe.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        if !data.isEmpty { child.append(data) }
    }
    try process.run()
    do {
        let result = try await body(child)
        await child.stop()
        pipe.fileHandleForReading.readabilityHandler = nil
        return result
    } catch {
        await child.stop()
        pipe.fileHandleForReading.readabilityHandler = nil
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
