import Crypto
import Foundation
import SwiftASN1
import HopGateDomain
import HopGatePorts
import X509

/// The development CA: an ECDSA P-256 key and a self-signed root, created once and kept in a
/// directory (`ca.pem`, `ca-key.pem` with mode 0600) so that a client trusts it across restarts.
struct LocalCertificateAuthority: Sendable {
    let certificate: Certificate
    let certificatePEM: String
    let privateKey: P256.Signing.PrivateKey
    let certificatePath: String

    static let certificateFile = "ca.pem"
    static let keyFile = "ca-key.pem"

    /// Loads the CA from `directory`, or creates and saves one when neither file exists.
    static func loadOrCreate(in directory: URL, now: Date) throws(SelfSignedCertificateError) -> LocalCertificateAuthority {
        let certificateURL = directory.appendingPathComponent(certificateFile)
        let keyURL = directory.appendingPathComponent(keyFile)
        let files = FileManager.default
        switch (files.fileExists(atPath: certificateURL.path), files.fileExists(atPath: keyURL.path)) {
        case (true, true):
            return try load(certificate: certificateURL, key: keyURL)
        case (false, false):
            return try create(in: directory, now: now)
        case (true, false):
            throw SelfSignedCertificateError(file: keyURL.path, problem: "is missing while \(certificateFile) exists; remove \(certificateFile) to create a new CA")
        case (false, true):
            throw SelfSignedCertificateError(file: certificateURL.path, problem: "is missing while \(keyFile) exists; remove \(keyFile) to create a new CA")
        }
    }

    private static func load(certificate certificateURL: URL, key keyURL: URL) throws(SelfSignedCertificateError) -> LocalCertificateAuthority {
        let certificate: Certificate
        let pem: String
        do {
            pem = try String(contentsOf: certificateURL, encoding: .utf8)
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw SelfSignedCertificateError(file: certificateURL.path, problem: "is not a PEM certificate (\(type(of: error)))")
        }
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOf: keyURL, encoding: .utf8))
        } catch {
            // The error's text could quote key material: only its type is shown.
            throw SelfSignedCertificateError(file: keyURL.path, problem: "is not a PEM P-256 private key (\(type(of: error)))")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw SelfSignedCertificateError(file: keyURL.path, problem: "does not belong to the certificate in \(certificateFile)")
        }
        return LocalCertificateAuthority(certificate: certificate, certificatePEM: pem, privateKey: key, certificatePath: certificateURL.path)
    }

    private static func create(in directory: URL, now: Date) throws(SelfSignedCertificateError) -> LocalCertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name: DistinguishedName
        let certificate: Certificate
        let pem: String
        do {
            name = try DistinguishedName {
                OrganizationName("HopGate")
                CommonName("HopGate Development CA")
            }
            let publicKey = Certificate.PublicKey(key.publicKey)
            certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: .init(key))
            pem = try certificate.serializeAsPEM().pemString
        } catch {
            throw SelfSignedCertificateError(file: directory.path, problem: "could not hold a new CA: \(error)")
        }
        let files = FileManager.default
        let certificateURL = directory.appendingPathComponent(certificateFile)
        let keyURL = directory.appendingPathComponent(keyFile)
        do {
            try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // The key file is created with 0600 before anything is written to it.
            guard files.createFile(atPath: keyURL.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            try Data(key.pemRepresentation.utf8).write(to: keyURL)
            try Data(pem.utf8).write(to: certificateURL, options: .atomic)
        } catch {
            throw SelfSignedCertificateError(file: directory.path, problem: "could not save the new CA: \(error.localizedDescription)")
        }
        return LocalCertificateAuthority(certificate: certificate, certificatePEM: pem, privateKey: key, certificatePath: certificateURL.path)
    }

    /// A server certificate for `name`, signed by this CA.
    func issueLeaf(for name: DomainName, now: Date, validity: TimeInterval) throws -> CertifiedKey {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(validity)
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(name.value) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(name.value)])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(privateKey))
        return CertifiedKey(
            chainPEM: [try leaf.serializeAsPEM().pemString, certificatePEM],
            privateKeyPEM: key.pemRepresentation,
            names: [name], notBefore: notBefore, notAfter: notAfter)
    }
}
