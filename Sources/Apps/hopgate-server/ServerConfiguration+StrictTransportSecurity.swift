import Foundation
import HopGateConfiguration
import HopGatePorts

extension ServerConfiguration {
    /// `HOP_HSTS` when it is not set: a year in production (as nginx guides and upstream's edge
    /// suggest), none in development, where certificates are self-signed and names are local.
    static let defaultStrictTransportSecurity = "max-age=31536000"

    /// Reads `HOP_HSTS`: `off` (or `0`, `false`) sends no `Strict-Transport-Security`; otherwise
    /// the header's value, which must start with `max-age=SECONDS`.
    static func strictTransportSecurity(_ raw: String?, development: Bool) throws(SettingsError) -> String? {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces) else { return development ? nil : defaultStrictTransportSecurity }
        if ["off", "0", "false", "no"].contains(raw.lowercased()) { return nil }
        let first = raw.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard first.hasPrefix("max-age="), let seconds = Int(first.dropFirst("max-age=".count)), seconds >= 0,
              raw.allSatisfy({ $0.isASCII && !$0.isNewline })
        else {
            throw SettingsError(name: "HOP_HSTS", message: "is '\(raw)'; expected off or a Strict-Transport-Security value such as max-age=31536000; includeSubDomains")
        }
        return raw
    }

    /// The request router's settings. The composition root passes this to ``PublicRequestRouter``.
    var routerConfiguration: PublicRequestRouter.Configuration {
        .init(responseTimeout: proxyTimeout, maximumBodyBytes: maximumBodyBytes, strictTransportSecurity: strictTransportSecurity)
    }
}
