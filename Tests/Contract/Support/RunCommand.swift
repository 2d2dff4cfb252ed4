public import Foundation

/// Runs `arguments` (through `/usr/bin/env`) to completion and returns its standard output.
/// - Throws: ``ChildProcessError`` with the output when it exits non-zero.
@discardableResult
public func runCommand(_ arguments: [String], environment: [String: String]? = nil) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    // Files, not pipes: a daemon the command starts (pg_ctl start) may inherit the write end
    // of a pipe and keep it open for ever, so a pipe would never reach end-of-file.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
    defer { try? outHandle.close(); try? errHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle
    try process.run()
    while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
    let out = (try? Data(contentsOf: outURL)) ?? Data()
    let err = (try? Data(contentsOf: errURL)) ?? Data()
    let text = String(decoding: out, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw ChildProcessError(message: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self).suffix(2000))\(text.suffix(500))")
    }
    return text
}

/// The repository's root directory (for scripts and fixtures).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
