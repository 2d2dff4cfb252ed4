/// A normalised fully qualified domain name, the key HopGate routes and stores by.
///
/// Parsing trims surrounding whitespace, lowercases, drops one trailing dot and a `:port`
/// suffix, then checks the name against the DNS host-name rules (RFC 1035 / RFC 5890 A-labels).
/// Internationalised names must be given in their ASCII form (`xn--…`).
///
/// ```swift
/// let name = try DomainName(parsing: " Example.COM.:443 ")   // "example.com"
/// ```
public struct DomainName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The normalised name, e.g. `"api.example.com"` or `"*.example.com"`.
    public let value: String

    /// The longest name accepted, in characters (RFC 1035 §2.3.4).
    public static let maximumLength = 253
    /// The longest label accepted, in characters.
    public static let maximumLabelLength = 63

    /// Parses and normalises `input`.
    /// - Parameter allowWildcard: accept a `*` as the whole first label (`*.example.com`).
    public init(parsing input: String, allowWildcard: Bool = false) throws(DomainNameError) {
        if let value = Self.alreadyNormalised(input) {
            self.value = value
        } else {
            value = try Self.normalised(input, allowWildcard: allowWildcard)
        }
    }

    /// As ``init(parsing:allowWildcard:)`` through the general parse alone; for the tests that
    /// hold the fast path to it.
    init(normalising input: String, allowWildcard: Bool) throws(DomainNameError) {
        value = try Self.normalised(input, allowWildcard: allowWildcard)
    }

    /// The general parse, for any input: the one that names what is wrong.
    private static func normalised(_ input: String, allowWildcard: Bool) throws(DomainNameError) -> String {
        var name = input.trimmingWhitespace()
        if name.isEmpty { throw DomainNameError(.empty, input: input) }
        if name.hasPrefix("[") { throw DomainNameError(.ipLiteral, input: input) }

        let colons = name.utf8.lazy.filter { $0 == UInt8(ascii: ":") }.count
        if colons > 1 { throw DomainNameError(.ipLiteral, input: input) }
        if colons == 1 {
            // Split on the scalar, not the Character: a combining mark after ':' would hide it.
            let colon = name.unicodeScalars.firstIndex(of: ":")!
            let port = name.unicodeScalars[name.unicodeScalars.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ ("0"..."9").contains($0) }),
                  let number = Int(String(port)), number <= 65_535
            else { throw DomainNameError(.invalidPort, input: input) }
            name = String(name.unicodeScalars[..<colon])
        }

        name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if name.isEmpty { throw DomainNameError(.empty, input: input) }
        if name.utf8.count > maximumLength { throw DomainNameError(.nameTooLong, input: input) }
        if isIPv4Literal(name) { throw DomainNameError(.ipLiteral, input: input) }

        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count < 2 { throw DomainNameError(.missingDot, input: input) }
        for (index, label) in labels.enumerated() {
            try check(label: label, isFirst: index == 0, allowWildcard: allowWildcard, input: input)
        }
        return name
    }

    /// The labels from left to right: `["api", "example", "com"]`.
    public var labels: [Substring] { value.split(separator: ".") }

    /// Whether the first label is a `*` wildcard.
    public var isWildcard: Bool { value.hasPrefix("*.") }

    /// Whether this name is a wildcard that covers `other` (exactly one label deeper).
    public func covers(_ other: DomainName) -> Bool {
        guard isWildcard, !other.isWildcard else { return self == other }
        let suffix = value.dropFirst(1) // ".example.com"
        guard other.value.hasSuffix(suffix) else { return false }
        return !other.value.dropLast(suffix.count).contains(".")
    }

    public var description: String { value }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do { try self.init(parsing: raw, allowWildcard: true) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    private static func check(
        label: Substring, isFirst: Bool, allowWildcard: Bool, input: String
    ) throws(DomainNameError) {
        if label.isEmpty { throw DomainNameError(.emptyLabel, input: input) }
        if label == "*" {
            guard isFirst, allowWildcard else { throw DomainNameError(.wildcardNotAllowed, input: input) }
            return
        }
        if label.utf8.count > maximumLabelLength { throw DomainNameError(.labelTooLong, input: input, detail: String(label.prefix(20)) + "…") }
        for scalar in label.unicodeScalars where !(scalar.isASCIILowercaseLetterOrDigit || scalar == "-") {
            if scalar == "*" { throw DomainNameError(.wildcardNotAllowed, input: input) }
            throw DomainNameError(.invalidCharacter, input: input, detail: String(scalar))
        }
        if label.hasPrefix("-") || label.hasSuffix("-") {
            throw DomainNameError(.hyphenAtLabelEdge, input: input, detail: String(label))
        }
    }

    /// The value of a name that needs no normalising beyond dropping a `:port` (the `Host` of
    /// nearly every request: lowercase ASCII labels, no surrounding space, no trailing dot), in
    /// one pass over its bytes; nil for anything else, which the general parse then takes
    /// (``init(normalising:allowWildcard:)``) — whether to accept it, and the error if not.
    /// Whatever this accepts, the general parse accepts with the same value (held by the unit
    /// tests on a generated corpus).
    static func alreadyNormalised(_ input: String) -> String? {
        var labels = 0
        var labelLength = 0
        var labelAllDigits = true
        var previous: UInt8 = UInt8(ascii: ".")
        var nameLength = 0
        var portDigits = -1  // -1: no port; else the digits after ':' so far
        var port = 0
        for byte in input.utf8 {
            if portDigits >= 0 {
                guard byte.isASCIIDigit, portDigits < 5 else { return nil }
                portDigits += 1
                port = port * 10 + Int(byte - UInt8(ascii: "0"))
                continue
            }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                if labelLength == 0, byte == UInt8(ascii: "-") { return nil }
                labelLength += 1
                if labelLength > maximumLabelLength { return nil }
                if !byte.isASCIIDigit { labelAllDigits = false }
            case UInt8(ascii: "."), UInt8(ascii: ":"):
                // A label ends: not empty, not ending with '-'.
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return nil }
                labels += 1
                if byte == UInt8(ascii: ":") {
                    portDigits = 0
                } else {
                    labelLength = 0
                    labelAllDigits = true
                }
            default:
                return nil
            }
            previous = byte
            if portDigits < 0 { nameLength += 1 }
        }
        if portDigits < 0 {
            // The last label ends with the input.
            guard labelLength > 0, previous != UInt8(ascii: "-") else { return nil }
            labels += 1
        } else {
            guard portDigits > 0, port <= 65_535 else { return nil }
        }
        // Two labels at least; the last not all digits (an address in some notation).
        guard labels >= 2, !labelAllDigits, nameLength <= maximumLength else { return nil }
        return portDigits < 0 ? input : String(input.utf8.prefix(nameLength))!
    }

    /// An IPv4 address, or a name whose last label is all digits (no top-level domain is; such
    /// a name is an address in some notation, such as `999.1.1.1` or `10.1`).
    private static func isIPv4Literal(_ name: String) -> Bool {
        if IPAddressLiteral.isIPv4(name) { return true }
        let last = name.split(separator: ".", omittingEmptySubsequences: false).last
        return last.map { !$0.isEmpty && $0.utf8.allSatisfy(\.isASCIIDigit) } ?? false
    }
}

extension UInt8 {
    var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}

extension Unicode.Scalar {
    var isASCIILowercaseLetterOrDigit: Bool {
        ("a"..."z").contains(self) || ("0"..."9").contains(self)
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
