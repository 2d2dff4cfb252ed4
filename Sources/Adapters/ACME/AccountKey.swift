import Crypto
import Foundation

/// The ACME account's key pair (ECDSA P-256) and what RFC 8555 derives from it: the JWK that
/// identifies it in a `newAccount` request, its RFC 7638 thumbprint (part of every key
/// authorization), and ES256 JSON Web Signatures over requests.
struct AccountKey: Sendable {
    let privateKey: P256.Signing.PrivateKey

    /// The public key as a JWK, members in the lexicographic order RFC 7638 requires.
    var jwkJSON: String {
        let raw = privateKey.publicKey.rawRepresentation  // x ‖ y, 32 bytes each
        let x = Base64URL.encode(raw.prefix(32))
        let y = Base64URL.encode(raw.suffix(32))
        return #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
    }

    /// RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)).
    var thumbprint: String {
        Base64URL.encode(SHA256.hash(data: Data(jwkJSON.utf8)))
    }

    /// The key authorization for a challenge token (RFC 8555 §8.1).
    func keyAuthorization(token: String) -> String { "\(token).\(thumbprint)" }

    /// Who signs: a new account presents its JWK, a registered one its account URL (`kid`).
    enum Signer: Sendable {
        case jwk
        case kid(String)
    }

    /// A flattened JWS (RFC 7515 §7.2.2) for `url`: `payload` nil means POST-as-GET (an empty payload).
    func sign(payload: Data?, url: String, nonce: String, as signer: Signer) throws -> Data {
        var header = #"{"alg":"ES256","#
        switch signer {
        case .jwk: header += #""jwk":\#(jwkJSON),"#
        case .kid(let account): header += #""kid":\#(Self.jsonString(account)),"#
        }
        header += #""nonce":\#(Self.jsonString(nonce)),"url":\#(Self.jsonString(url))}"#
        let protected = Base64URL.encode(Data(header.utf8))
        let encodedPayload = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try privateKey.signature(for: Data("\(protected).\(encodedPayload)".utf8))
        let body = #"{"protected":"\#(protected)","payload":"\#(encodedPayload)","signature":"\#(Base64URL.encode(signature.rawRepresentation))"}"#
        return Data(body.utf8)
    }

    /// A JSON string literal for `text` (quotes and escapes).
    static func jsonString(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)  // encoding a String cannot fail
        return String(decoding: data, as: UTF8.self)
    }
}
