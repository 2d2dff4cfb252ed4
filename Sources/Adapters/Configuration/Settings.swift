public import Foundation

/// `HOP_*` settings from the process environment and an optional `.env` file. The real
/// environment always wins over the file; command-line flags (handled by the apps) win over both.
public struct Settings: Sendable {
    /// Where each value came from, for `check-config`.
    public enum Source: String, Sendable { case environment, dotEnv = ".env", upstream = "upstream HopGate setting" }

    let values: [String: (String, Source)]

    init(values: [String: (String, Source)]) { self.values = values }

    /// Reads `environment` and, when it exists, the file at `dotEnvPath`.
    /// - Throws: ``SettingsError`` when the `.env` file exists but has a malformed line.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, dotEnvPath: String? = ".env") throws(SettingsError) {
        var values: [String: (String, Source)] = [:]
        if let dotEnvPath, FileManager.default.fileExists(atPath: dotEnvPath) {
            let text: String
            do { text = try String(contentsOfFile: dotEnvPath, encoding: .utf8) } catch {
                throw SettingsError(name: dotEnvPath, message: "cannot be read: \(error.localizedDescription)")
            }
            for (key, value) in try DotEnv.parse(text, file: dotEnvPath) { values[key] = (value, .dotEnv) }
        }
        for (key, value) in environment where key.hasPrefix("HOP_") { values[key] = (value, .environment) }
        self.values = values
    }

    /// The names of the `HOP_*` settings that have a value (empty counts as unset), sorted.
    public var names: [String] { values.filter { $0.key.hasPrefix("HOP_") && !$0.value.0.isEmpty }.keys.sorted() }

    /// The raw value of `name`, if set and not empty.
    public func string(_ name: String) -> String? {
        guard let value = values[name]?.0, !value.isEmpty else { return nil }
        return value
    }

    /// Where `name` was set.
    public func source(of name: String) -> Source? { values[name]?.1 }

    /// The value of `name`. - Throws: naming the setting and what would be valid.
    public func required(_ name: String, _ expectation: String) throws(SettingsError) -> String {
        guard let value = string(name) else { throw SettingsError(name: name, message: "is not set; expected \(expectation)") }
        return value
    }

    /// An integer setting within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A boolean setting: `true/false`, `1/0`, `yes/no`, `on/off`.
    public func boolean(_ name: String) throws(SettingsError) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SettingsError(name: name, message: "is '\(raw)'; expected true or false")
        }
    }

    /// A duration such as `30s`, `500ms`, `2m`, `1h`, or plain seconds.
    public func duration(_ name: String) throws(SettingsError) -> Duration? {
        guard let raw = string(name) else { return nil }
        guard let value = Self.parseDuration(raw) else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected a duration like 30s, 500ms, 2m or 1h")
        }
        return value
    }

    /// Parses `30s`, `500ms`, `2m`, `1h` or a plain number of seconds.
    public static func parseDuration(_ raw: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where raw.hasSuffix(suffix) {
            guard let number = Double(raw.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return .milliseconds(Int64((number * seconds * 1000).rounded()))
        }
        guard let number = Double(raw), number >= 0, number.isFinite else { return nil }
        return .milliseconds(Int64((number * 1000).rounded()))
    }
}

/// A setting that is missing or malformed: one line naming it and what would be valid.
public struct SettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let message: String
    public init(name: String, message: String) {
        self.name = name
        self.message = message
    }
    public var description: String { "\(name) \(message)" }
}
