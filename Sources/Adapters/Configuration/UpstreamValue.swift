/// Conversions of upstream HopGate values into the syntax of the HopGate setting that takes
/// them over. Each throws a ``SettingsError`` naming the upstream setting.
enum UpstreamValue {
    /// `HOP_SERVER_PROXY_TIMEOUT_SECONDS`: a whole number of seconds above 0 → `Ns`.
    static func seconds(_ raw: String, _ name: String) throws(SettingsError) -> String {
        guard let value = Int(raw.trimmingCharacters(in: " \t")), value > 0 else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected a whole number of seconds above 0")
        }
        return "\(value)s"
    }

    /// `HOP_DB_MAX_OPEN_CONNS`: a connection count from 1 to 1000.
    static func connectionCount(_ raw: String, _ name: String) throws(SettingsError) -> String {
        guard let value = Int(raw.trimmingCharacters(in: " \t")), (1...1_000).contains(value) else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected a whole number from 1 to 1000")
        }
        return "\(value)"
    }

    /// `HOP_ACME_CA_DIR`: an `https://` ACME directory URL, unchanged.
    static func httpsURL(_ raw: String, _ name: String) throws(SettingsError) -> String {
        let value = raw.trimmingCharacters(in: " \t")
        guard value.hasPrefix("https://"), value.count > "https://".count else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected the https:// URL of an ACME directory")
        }
        return value
    }

    /// `HOP_DB_CONN_MAX_LIFETIME`: a Go duration above 0 (`30m`, `1h30m`, `90s`, `500ms`) → milliseconds (`Nms`).
    static func goDuration(_ raw: String, _ name: String) throws(SettingsError) -> String {
        guard let seconds = parseGoDuration(raw.trimmingCharacters(in: " \t")), seconds > 0 else {
            throw SettingsError(name: name, message: "is '\(raw)'; expected a duration above 0 such as 30m, 1h30m or 90s")
        }
        return "\(Int64((seconds * 1000).rounded()))ms"
    }

    /// Seconds in a Go `time.ParseDuration` string without a sign: number-unit pairs with units
    /// `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`; nil if malformed.
    static func parseGoDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // Longest unit first, so `ms` is not read as `m` followed by `s`.
            guard let (unit, scale) = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return total.isFinite ? total : nil
    }
}
