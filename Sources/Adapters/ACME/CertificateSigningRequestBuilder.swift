import Crypto
import HopGateDomain
import SwiftASN1
import X509

/// The CSR sent to finalize an order (RFC 8555 §7.4): the name as subject CN and as the only
/// SAN, signed with the certificate's new P-256 key.
enum CertificateSigningRequestBuilder {
    static func der(for name: DomainName, key: P256.Signing.PrivateKey) throws -> [UInt8] {
        let extensions = try Certificate.Extensions { SubjectAlternativeNames([.dnsName(name.value)]) }
        let request = try CertificateSigningRequest(
            version: .v1,
            subject: try DistinguishedName { CommonName(name.value) },
            privateKey: .init(key),
            attributes: .init([try .init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        return serializer.serializedBytes
    }
}
