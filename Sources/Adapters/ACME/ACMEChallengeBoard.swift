import Crypto
import Foundation
public import HopGateDomain
public import HopGatePorts
import SwiftASN1
import Synchronization
import X509

/// The challenges being validated right now, as the listeners answer them: HTTP-01 key
/// authorizations by token (port 80) and TLS-ALPN-01 certificates by name (port 443, ALPN
/// `acme-tls/1`). An order posts its challenge here before telling the CA to validate and takes
/// it down when the authorization is settled.
public final class ACMEChallengeBoard: ChallengeResponder {
    private struct Board {
        var http01: [String: String] = [:]
        var tlsALPN01: [DomainName: CertifiedKey] = [:]
    }
    private let board = Mutex(Board())

    public init() {}

    public func http01KeyAuthorization(token: String) async -> String? {
        board.withLock { $0.http01[token] }
    }

    public func tlsALPN01Certificate(for name: DomainName) async -> CertifiedKey? {
        board.withLock { $0.tlsALPN01[name] }
    }

    func postHTTP01(token: String, keyAuthorization: String) {
        board.withLock { $0.http01[token] = keyAuthorization }
    }

    func removeHTTP01(token: String) {
        board.withLock { $0.http01[token] = nil }
    }

    func postTLSALPN01(name: DomainName, keyAuthorization: String) throws {
        let certificate = try Self.tlsALPN01Certificate(name: name, keyAuthorization: keyAuthorization)
        board.withLock { $0.tlsALPN01[name] = certificate }
    }

    func removeTLSALPN01(name: DomainName) {
        board.withLock { $0.tlsALPN01[name] = nil }
    }

    /// `id-pe-acmeIdentifier` (RFC 8737 §6.1).
    static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    /// The self-signed certificate RFC 8737 §3 asks for: the name as its only SAN and a critical
    /// `acmeIdentifier` extension holding SHA-256 of the key authorization.
    static func tlsALPN01Certificate(name: DomainName, keyAuthorization: String, now: Date = Date()) throws -> CertifiedKey {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let digest = Array(SHA256.hash(data: Data(keyAuthorization.utf8)))
        var serializer = DER.Serializer()
        try serializer.serialize(ASN1OctetString(contentBytes: digest[...]))
        let subject = try DistinguishedName { CommonName(name.value) }
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(7 * 86_400)
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.dnsName(name.value)])
                Certificate.Extension(oid: acmeIdentifierOID, critical: true, value: serializer.serializedBytes[...])
            },
            issuerPrivateKey: .init(key))
        return CertifiedKey(
            chainPEM: [try certificate.serializeAsPEM().pemString], privateKeyPEM: key.pemRepresentation,
            names: [name], notBefore: notBefore, notAfter: notAfter)
    }
}
