import Foundation
import SwiftASN1
import X509

/// The ARI certificate identifier (RFC 9773 §4.1): base64url of the leaf's Authority Key
/// Identifier, a dot, base64url of its serial number's DER bytes.
enum RenewalInfoIdentifier {
    static func of(leafPEM: String) -> String? {
        guard let leaf = try? Certificate(pemEncoded: leafPEM),
              let authority = try? leaf.extensions.authorityKeyIdentifier,
              let keyIdentifier = authority.keyIdentifier else { return nil }
        return make(authorityKeyIdentifier: Array(keyIdentifier), serial: Array(leaf.serialNumber.bytes))
    }

    static func make(authorityKeyIdentifier: [UInt8], serial: [UInt8]) -> String {
        "\(Base64URL.encode(authorityKeyIdentifier)).\(Base64URL.encode(serial))"
    }
}
