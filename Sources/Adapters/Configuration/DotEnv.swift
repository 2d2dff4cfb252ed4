import Foundation

/// Parses `.env` files: `KEY=value` lines, `#` comments, blank lines, optional `export `,
/// values in single quotes (literal) or double quotes (with `\n`, `\"`, `\\` escapes).
enum DotEnv {
    static func parse(_ text: String, file: String) throws(SettingsError) -> [String: String] {
        var result: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7) }
            guard let equals = line.firstIndex(of: "=") else {
                throw SettingsError(name: "\(file):\(index + 1)", message: "is not a KEY=value line")
            }
            let key = line[..<equals].trimmingCharacters(in: " \t")
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !(key.first?.isNumber ?? true) else {
                throw SettingsError(name: "\(file):\(index + 1)", message: "has an invalid variable name '\(key)'")
            }
            let rawValue = line[line.index(after: equals)...].trimmingCharacters(in: " \t")
            result[key] = try value(rawValue, location: "\(file):\(index + 1)")
        }
        return result
    }

    private static func value(_ raw: String, location: String) throws(SettingsError) -> String {
        if raw.hasPrefix("'") {
            guard raw.count >= 2, raw.hasSuffix("'") else { throw SettingsError(name: location, message: "has an unterminated single quote") }
            return String(raw.dropFirst().dropLast())
        }
        if raw.hasPrefix("\"") {
            guard raw.count >= 2, raw.hasSuffix("\""), !raw.hasSuffix("\\\"") || raw.hasSuffix("\\\\\"") else {
                throw SettingsError(name: location, message: "has an unterminated double quote")
            }
            var out = ""
            var escaped = false
            for character in raw.dropFirst().dropLast() {
                if escaped {
                    switch character {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    default: out.append(character)
                    }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    out.append(character)
                }
            }
            return out
        }
        // Unquoted: a " #" starts a comment.
        if let hash = raw.range(of: " #") { return raw[..<hash.lowerBound].trimmingCharacters(in: " \t") }
        return raw
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let start = firstIndex(where: { !characters.contains($0) }),
              let end = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[start...end])
    }
}
