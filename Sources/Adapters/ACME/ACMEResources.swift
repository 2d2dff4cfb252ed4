import Foundation

/// The CA's directory (RFC 8555 §7.1.1), with ACME Renewal Information (RFC 9773) when offered.
struct ACMEDirectory: Decodable, Sendable {
    struct Meta: Decodable, Sendable {
        let termsOfService: String?
    }
    let newNonce: String
    let newAccount: String
    let newOrder: String
    let renewalInfo: String?
    let meta: Meta?
}

/// An identifier in an order or authorization; HopGate only orders `dns` names.
struct ACMEIdentifier: Codable, Sendable, Hashable {
    let type: String
    let value: String
    static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }
}

/// An order (RFC 8555 §7.1.3).
struct ACMEOrder: Decodable, Sendable {
    /// pending, ready, processing, valid or invalid.
    let status: String
    let identifiers: [ACMEIdentifier]
    let authorizations: [String]
    let finalize: String
    let certificate: String?
    let error: ACMEProblem?
}

/// An authorization (RFC 8555 §7.1.4).
struct ACMEAuthorization: Decodable, Sendable {
    /// pending, valid, invalid, deactivated, expired or revoked.
    let status: String
    let identifier: ACMEIdentifier
    let challenges: [ACMEChallenge]
}

/// A challenge (RFC 8555 §7.1.5).
struct ACMEChallenge: Decodable, Sendable {
    let type: String
    let url: String
    let status: String
    let token: String?
    let error: ACMEProblem?
}

/// The answer to a renewal-information request (RFC 9773 §4.2).
struct ACMERenewalInfo: Decodable, Sendable {
    struct Window: Decodable, Sendable {
        let start: Date
        let end: Date
    }
    let suggestedWindow: Window
    let explanationURL: String?

    static func parse(_ data: Data) throws -> ACMERenewalInfo {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
            }
            return date
        }
        return try decoder.decode(ACMERenewalInfo.self, from: data)
    }
}

/// RFC 3339 timestamps, with or without fractional seconds.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        // More than millisecond precision (Go prints nanoseconds): cut the fraction to 3 digits.
        guard let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) else { return nil }
        let fraction = text[text.index(after: dot)..<zone].prefix(3)
        return fractional.date(from: "\(text[..<dot]).\(fraction)\(text[zone...])")
    }
}
