public import Foundation
public import HopGateDomain

/// A certificate chain and its private key, in PEM, for one or more names.
/// `description` never shows the key.
public struct CertifiedKey: Sendable, Hashable, CustomStringConvertible {
    /// Leaf first, then intermediates.
    public var chainPEM: [String]
    /// The leaf's private key. A secret.
    public var privateKeyPEM: String
    public var names: [DomainName]
    public var notBefore: Date
    public var notAfter: Date

    public init(chainPEM: [String], privateKeyPEM: String, names: [DomainName], notBefore: Date, notAfter: Date) {
        self.chainPEM = chainPEM
        self.privateKeyPEM = privateKeyPEM
        self.names = names
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    public var description: String {
        "certificate(names: \(names.map(\.value)), notAfter: \(notAfter), chain: \(chainPEM.count))"
    }
}

/// Supplies the certificate for each TLS server name (SNI). Implemented by the self-signed and
/// the ACME adapters; `Tests/Contract` holds the suite both must pass.
///
/// The edge asks on each handshake; a source answers from its cache and returns a renewed
/// certificate as soon as it has one, which is how certificates are swapped without a restart.
public protocol CertificateSource: Sendable {
    /// The certificate to present for `serverName`, or nil when this source does not serve
    /// the name (the edge then fails the handshake with `unrecognized_name`).
    func certificate(for serverName: DomainName) async throws -> CertifiedKey?

    /// Starts obtaining a certificate for `name` if it has none (e.g. on registration).
    func prepare(_ name: DomainName) async throws

    /// Stops serving and renewing `name` (e.g. on unregistration).
    func forget(_ name: DomainName) async

    /// The PEM roots that clients should trust to verify this source's certificates.
    func trustRootsPEM() async throws -> [String]
}

/// Answers ACME challenges on the listeners: HTTP-01 on port 80, TLS-ALPN-01 on 443.
public protocol ChallengeResponder: Sendable {
    /// The key authorization to serve at `/.well-known/acme-challenge/<token>`, or nil.
    func http01KeyAuthorization(token: String) async -> String?

    /// The self-signed `acme-tls/1` certificate for `name` while its TLS-ALPN-01 challenge is
    /// pending, or nil.
    func tlsALPN01Certificate(for name: DomainName) async -> CertifiedKey?
}
