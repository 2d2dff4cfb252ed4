import Crypto
import Foundation
import HopGateDomain
import HopGatePorts
import SwiftASN1
import X509
#if canImport(Glibc)
import Glibc
#endif

/// The files the ACME adapter keeps: the account key and URL, and per name the certificate chain
/// and its key. Every file is written to a temporary file with mode 0600 and renamed into place,
/// so a crash never leaves half a key; the directory is 0700.
struct ACMEStateDirectory: Sendable {
    let url: URL

    private var accountKeyURL: URL { url.appendingPathComponent("account-key.pem") }
    private var accountURLFile: URL { url.appendingPathComponent("account-url") }
    private var certificatesURL: URL { url.appendingPathComponent("certificates") }

    func chainURL(for name: DomainName) -> URL { certificatesURL.appendingPathComponent("\(name.value).chain.pem") }
    func keyURL(for name: DomainName) -> URL { certificatesURL.appendingPathComponent("\(name.value).key.pem") }

    /// Loads the account key, creating and saving one the first time.
    func loadOrCreateAccountKey() throws -> AccountKey {
        if FileManager.default.fileExists(atPath: accountKeyURL.path) {
            do {
                let pem = try String(contentsOf: accountKeyURL, encoding: .utf8)
                return AccountKey(privateKey: try P256.Signing.PrivateKey(pemRepresentation: pem))
            } catch {
                throw ACMEError(.storage, "\(accountKeyURL.path) is not a PEM P-256 private key (\(type(of: error)))")
            }
        }
        let key = P256.Signing.PrivateKey()
        try write(key.pemRepresentation, to: accountKeyURL)
        return AccountKey(privateKey: key)
    }

    /// The account URL saved after registration, if any.
    func accountURL() -> String? {
        (try? String(contentsOf: accountURLFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
    }

    func saveAccountURL(_ value: String) throws { try write(value + "\n", to: accountURLFile) }

    /// The saved certificate for `name`, or nil when there is none. A damaged pair is reported
    /// (the caller orders a new certificate) rather than served.
    func loadCertificate(for name: DomainName) throws -> CertifiedKey? {
        let chainURL = chainURL(for: name), keyURL = keyURL(for: name)
        guard FileManager.default.fileExists(atPath: chainURL.path), FileManager.default.fileExists(atPath: keyURL.path) else { return nil }
        do {
            let chainPEM = try String(contentsOf: chainURL, encoding: .utf8)
            let keyPEM = try String(contentsOf: keyURL, encoding: .utf8)
            return try Self.certifiedKey(chainPEM: chainPEM, keyPEM: keyPEM, name: name)
        } catch let error as ACMEError {
            throw error
        } catch {
            throw ACMEError(.storage, "the saved certificate \(chainURL.path) cannot be used (\(type(of: error)))")
        }
    }

    func saveCertificate(_ key: CertifiedKey, for name: DomainName) throws {
        try write(key.privateKeyPEM, to: keyURL(for: name))
        try write(key.chainPEM.joined(separator: "\n"), to: chainURL(for: name))
    }

    func removeCertificate(for name: DomainName) {
        try? FileManager.default.removeItem(at: chainURL(for: name))
        try? FileManager.default.removeItem(at: keyURL(for: name))
    }

    /// Checks a chain and key before they are served: the leaf parses, names `name`, and the key is its own.
    static func certifiedKey(chainPEM: String, keyPEM: String, name: DomainName) throws -> CertifiedKey {
        let blocks = PEMBlocks.split(chainPEM)
        guard let leafPEM = blocks.first else { throw ACMEError(.protocolViolation, "the certificate chain for \(name) holds no certificate") }
        let leaf: Certificate
        let key: P256.Signing.PrivateKey
        do {
            leaf = try Certificate(pemEncoded: leafPEM)
            key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        } catch {
            throw ACMEError(.protocolViolation, "the certificate for \(name) or its key does not parse (\(type(of: error)))")
        }
        guard leaf.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw ACMEError(.protocolViolation, "the certificate for \(name) does not belong to its key")
        }
        var names: [DomainName] = []
        if let sans = try? leaf.extensions.subjectAlternativeNames {
            for case .dnsName(let value) in sans {
                if let parsed = try? DomainName(parsing: value) { names.append(parsed) }
            }
        }
        guard names.contains(name) else { throw ACMEError(.protocolViolation, "the certificate for \(name) does not name it") }
        return CertifiedKey(chainPEM: blocks, privateKeyPEM: keyPEM, names: names, notBefore: leaf.notValidBefore, notAfter: leaf.notValidAfter)
    }

    private func write(_ text: String, to destination: URL) throws {
        let files = FileManager.default
        let directory = destination.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard files.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, destination.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            try? files.removeItem(at: temporary)
            throw ACMEError(.storage, "cannot write \(destination.path) (\(error.localizedDescription))")
        }
    }
}

/// Splits PEM text into its `-----BEGIN …-----`/`-----END …-----` blocks.
enum PEMBlocks {
    static func split(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring] = []
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("-----BEGIN ") { current = [line] } else if !current.isEmpty { current.append(line) }
            if line.hasPrefix("-----END "), !current.isEmpty {
                blocks.append(current.joined(separator: "\n") + "\n")
                current = []
            }
        }
        return blocks
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
