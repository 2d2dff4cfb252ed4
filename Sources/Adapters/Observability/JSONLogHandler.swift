public import Foundation
import HopGatePorts
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes one JSON object per line — `ts` (RFC 3339, milliseconds, UTC), `level`, `msg`,
/// `component`, then the metadata (`request_id`, `domain`, `tunnel_id`, `status`,
/// `duration_ms`, …) — so that Loki and `jq` read the output as it is.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LogOutput

    public init(label: String, output: LogOutput = .standardOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        output.write(Self.line(date: Date(), level: event.level, message: "\(event.message)", label: label, metadata: merged))
    }

    /// Renders one line (without the newline). Exposed for tests.
    public static func line(date: Date, level: Logger.Level, message: String, label: String, metadata: Logger.Metadata) -> String {
        var fields: [(String, String)] = [
            ("ts", JSONText.quote(RFC3339.string(from: date))),
            ("level", JSONText.quote(level.rawValue)),
            ("msg", JSONText.quote(message)),
        ]
        if metadata["component"] == nil { fields.append(("component", JSONText.quote(label))) }
        for key in metadata.keys.sorted() { fields.append((key, JSONText.value(metadata[key]!))) }
        return "{" + fields.map { "\(JSONText.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// Where log lines go.
public struct LogOutput: Sendable {
    private let sink: @Sendable (String) -> Void
    public init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = sink }
    public func write(_ line: String) { sink(line) }

    /// Standard output.
    public static let standardOutput = LogOutput { FileDescriptorWriter.standardOutput.write(line: $0) }

    /// Standard error.
    public static let standardError = LogOutput { FileDescriptorWriter.standardError.write(line: $0) }
}

/// Writes whole lines to a file descriptor, one writer at a time, so lines never interleave.
final class FileDescriptorWriter: Sendable {
    static let standardOutput = FileDescriptorWriter(descriptor: 1)
    static let standardError = FileDescriptorWriter(descriptor: 2)

    private let descriptor: Int32
    private let lock = Mutex(())

    init(descriptor: Int32) { self.descriptor = descriptor }

    func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// Formats dates as RFC 3339 with milliseconds in UTC: `2026-11-24T22:13:09.866Z`.
enum RFC3339 {
    static func string(from date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(milliseconds % 1000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis
        )
    }
}

/// JSON string escaping and metadata rendering.
enum JSONText {
    static func quote(_ text: String) -> String { JSONString.quoted(text) }

    static func value(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .stringConvertible(let convertible): return quote(convertible.description)
        case .array(let values): return "[" + values.map(Self.value).joined(separator: ",") + "]"
        case .dictionary(let values):
            return "{" + values.keys.sorted().map { "\(quote($0)):\(Self.value(values[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}
