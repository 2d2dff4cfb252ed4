/// Whether a host is written as an IP address rather than a name: the one check that domain
/// names, TLS server names, redirects and the client's server address share.
public enum IPAddressLiteral {
    /// Whether `text` is a dotted-quad IPv4 address: four parts of one to three ASCII digits,
    /// each at most 255 (`192.0.2.1`).
    public static func isIPv4(_ text: some StringProtocol) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit) else { return false }
            return part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255
        }
    }

    /// Whether `text` is an IPv4 or an IPv6 address (anything with a colon, bracketed or not,
    /// since a host name never has one).
    public static func isIPAddress(_ text: some StringProtocol) -> Bool {
        text.contains(":") || isIPv4(text)
    }
}
