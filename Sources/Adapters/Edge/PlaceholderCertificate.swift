import Crypto
import Foundation
import HopGateDomain
import HopGatePorts
import SwiftASN1
import X509

/// A throw-away self-signed certificate made in memory, which the HTTPS listener's TLS context
/// needs before any real certificate exists. No client is ever meant to see it: each handshake
/// selects its certificate by name (see ``EdgeCertificates``).
enum PlaceholderCertificate {
    static func make(for name: DomainName, now: Date = Date()) throws -> EdgeCertificates.Parsed {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("HopGate placeholder for \(name.value)") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: .init(), issuerPrivateKey: .init(key))
        let certified = CertifiedKey(
            chainPEM: [try certificate.serializeAsPEM().pemString], privateKeyPEM: key.pemRepresentation,
            names: [], notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter)
        return EdgeCertificates.Parsed(
            chainPEM: certified.chainPEM, override: try EdgeCertificates.override(for: certified),
            fetchedAt: .now, notAfter: certified.notAfter)
    }
}
