import Foundation
public import Logging

/// A human format for terminals: `22:13:09.866 info  [admin] admin action action=register domain=…`.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LogOutput

    public init(label: String, output: LogOutput = .standardError) {
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
        let component = merged.removeValue(forKey: "component").map { "\($0)" } ?? label
        let time = RFC3339.string(from: Date()).dropFirst(11).dropLast()
        let level = event.level.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let rest = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        output.write("\(time) \(level)[\(component)] \(event.message)\(rest.isEmpty ? "" : " " + rest)")
    }
}

/// How the apps format their logs.
public enum LogFormat: String, Sendable, CaseIterable {
    case json, text

    /// Installs the handler for every logger of the process. Call once, from an app's `main`.
    public func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            switch self {
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            case .text:
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
