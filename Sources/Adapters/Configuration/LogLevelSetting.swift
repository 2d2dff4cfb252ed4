/// `HOP_LOG_LEVEL`: swift-log's level names, plus upstream HopGate's spelling `warn`, in any case.
public enum LogLevelSetting {
    /// swift-log's level names, quietest last.
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Other spellings people bring along, each with the level it means.
    static let aliases = ["warn": "warning"]

    /// The swift-log level name (`Logger.Level`'s raw value) that `raw` means.
    /// - Throws: ``SettingsError`` naming `name` and the accepted spellings.
    public static func parse(_ raw: String, name: String = "HOP_LOG_LEVEL") throws(SettingsError) -> String {
        let lowered = raw.trimmingCharacters(in: " \t").lowercased()
        if levels.contains(lowered) { return lowered }
        if let level = aliases[lowered] { return level }
        throw SettingsError(name: name, message: "is '\(raw)'; expected trace, debug, info, notice, warning (or warn), error or critical")
    }
}
