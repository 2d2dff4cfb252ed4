import Foundation
import HopGateTestSupport

/// What curl got from a request that may fail on purpose: the status it saw, the body bytes it
/// received, its exit code and how long it took. (`runCommand` throws on a non-zero exit; fault
/// tests need the exit code itself.)
struct CurlOutcome: CustomStringConvertible {
    let status: Int
    let bytes: Int
    /// Request body bytes curl sent.
    let uploaded: Int
    let exitCode: Int
    let elapsed: Duration

    var description: String { "status \(status), \(bytes) bytes, \(uploaded) uploaded, exit \(exitCode), \(elapsed)" }

    /// curl against `https://host:port/path` of the gateway, body discarded; `extra` goes to curl.
    static func run(
        _ server: GatewayProcesses.Server, _ host: String, _ version: GatewayProcesses.HTTPVersion, _ path: String,
        _ extra: [String] = []
    ) async throws -> CurlOutcome {
        let started = ContinuousClock.now
        let command = ["curl", "-sS", "--max-time", "60", version.rawValue, "--cacert", server.caFile,
                       "--resolve", "\(host):\(server.httpsPort):127.0.0.1", "-o", "/dev/null",
                       "-w", "%{http_code} %{size_download} %{size_upload}"] + extra + ["https://\(host):\(server.httpsPort)\(path)"]
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let output = try await runCommand(["sh", "-c", quoted + " 2>/dev/null; echo \" $?\""])
        let fields = output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard fields.count == 4 else { throw CurlOutputError(output: output) }
        return CurlOutcome(status: fields[0], bytes: fields[1], uploaded: fields[2], exitCode: fields[3], elapsed: ContinuousClock.now - started)
    }
}

/// curl printed something other than "status bytes uploaded exit".
struct CurlOutputError: Error, CustomStringConvertible {
    let output: String
    var description: String { "unexpected curl output: \(output)" }
}
