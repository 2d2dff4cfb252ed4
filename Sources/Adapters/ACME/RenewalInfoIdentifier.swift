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
        // The serial's DER INTEGER content: swift-certificates gives the magnitude, so a serial
        // whose first byte has the high bit set needs the zero byte DER puts in front of it.
        var serial = Array(leaf.serialNumber.bytes)
        if let first = serial.first, first & 0x80 != 0 { serial.insert(0, at: 0) }
        return make(authorityKeyIdentifier: Array(keyIdentifier), serial: serial)
    }

    static func make(authorityKeyIdentifier: [UInt8], serial: [UInt8]) -> String {
        "\(Base64URL.encode(authorityKeyIdentifier)).\(Base64URL.encode(serial))"
    }
}
