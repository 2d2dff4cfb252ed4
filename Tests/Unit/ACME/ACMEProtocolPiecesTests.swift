import Crypto
import Foundation
@testable import HopGateACME
import Testing

/// The pure parts of the ACME client, checked against the RFCs' own examples where they give one.
@Suite("ACME protocol pieces")
struct ACMEProtocolPiecesTests {
    @Test("the ARI certificate identifier matches RFC 9773's example")
    func renewalInfoIdentifier() {
        // RFC 9773 §4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
        let identifier = RenewalInfoIdentifier.make(
            authorityKeyIdentifier: [0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4],
            serial: [0x00, 0x87, 0x65, 0x43, 0x21])
        #expect(identifier == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    }

    @Test("the renewal information answer of RFC 9773 §4.2 parses, with or without fractional seconds")
    func renewalInfoParses() throws {
        let recorded = #"{"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00.123456789Z"},"explanationURL":"https://acme.example.com/docs/ari"}"#
        let info = try ACMERenewalInfo.parse(Data(recorded.utf8))
        #expect(info.suggestedWindow.start == Date(timeIntervalSince1970: 1_735_790_400))
        #expect(abs(info.suggestedWindow.end.timeIntervalSince1970 - 1_735_876_800.123) < 0.001)
        #expect(info.explanationURL == "https://acme.example.com/docs/ari")
        #expect(throws: (any Error).self) { try ACMERenewalInfo.parse(Data(#"{"suggestedWindow":{"start":"yesterday","end":"today"}}"#.utf8)) }
    }

    @Test("renewal is due at two thirds of the lifetime, or inside the CA's window")
    func dueDate() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let end = start.addingTimeInterval(90 * 86_400)
        #expect(RenewalPlan.dueDate(notBefore: start, notAfter: end, window: nil, randomFraction: 0.9) == start.addingTimeInterval(60 * 86_400))
        let window = start.addingTimeInterval(10 * 86_400)...start.addingTimeInterval(12 * 86_400)
        #expect(RenewalPlan.dueDate(notBefore: start, notAfter: end, window: window, randomFraction: 0) == window.lowerBound)
        #expect(RenewalPlan.dueDate(notBefore: start, notAfter: end, window: window, randomFraction: 0.5) == start.addingTimeInterval(11 * 86_400))
        #expect(RenewalPlan.dueDate(notBefore: start, notAfter: end, window: window, randomFraction: 7) == window.upperBound)
    }

    @Test("failed orders back off exponentially up to the cap")
    func backoff() {
        let waits = (0...12).map { RenewalPlan.backoff(afterFailures: $0, base: 60, cap: 3600) }
        #expect(waits == [0, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600, 3600])
        #expect(RenewalPlan.backoff(afterFailures: 10_000, base: 60, cap: 3600) == 3600)
        #expect(RenewalPlan.renewalInfoRefresh(retryAfter: nil) == 21_600)
        #expect(RenewalPlan.renewalInfoRefresh(retryAfter: 1) == 60)
        #expect(RenewalPlan.renewalInfoRefresh(retryAfter: 10 * 86_400) == 86_400)
    }

    @Test("Retry-After is read as seconds or as an HTTP date; nonsense is ignored")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter.parse("120", now: now) == 120)
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:29:00 GMT", now: now) == 60)
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == 0)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
    }

    @Test("a problem document names its type and detail, subproblems included")
    func problems() throws {
        let body = #"{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Error creating new order","status":400,"subproblems":[{"type":"urn:ietf:params:acme:error:malformed","detail":"Invalid underscore in DNS name \"_example.org\""}]}"#
        let problem = try #require(ACMEProblem.parse(Data(body.utf8)))
        #expect(problem.name == "rejectedIdentifier")
        #expect(problem.description.contains("rejectedIdentifier (Error creating new order)"))
        #expect(problem.description.contains("malformed (Invalid underscore"))
        let error = ACMEError(.problem, "creating the order for app.example.com was refused by the CA (HTTP 400)", problem: problem)
        #expect(error.description.hasPrefix("creating the order for app.example.com was refused by the CA (HTTP 400): rejectedIdentifier"))
        #expect(ACMEProblem.parse(Data("<html>bad gateway</html>".utf8)) == nil)
    }

    @Test("requests are flattened ES256 JWS that verify with the account's key; the JWK thumbprint follows RFC 7638")
    func signatures() throws {
        let key = AccountKey(privateKey: P256.Signing.PrivateKey())
        let body = try key.sign(payload: Data(#"{"a":1}"#.utf8), url: "https://ca.example/new-order", nonce: "n0nce", as: .kid("https://ca.example/acct/7"))
        let jws = try #require(try JSONSerialization.jsonObject(with: body) as? [String: String])
        let protected = try #require(jws["protected"]), payload = try #require(jws["payload"]), signature = try #require(jws["signature"])
        let headerBytes = try #require(Base64URL.decode(protected))
        let header = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: String])
        #expect(header == ["alg": "ES256", "kid": "https://ca.example/acct/7", "nonce": "n0nce", "url": "https://ca.example/new-order"])
        #expect(Base64URL.decode(payload) == Data(#"{"a":1}"#.utf8))
        let ecdsa = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Base64URL.decode(signature)))
        #expect(key.privateKey.publicKey.isValidSignature(ecdsa, for: Data("\(protected).\(payload)".utf8)))
        #expect(!key.privateKey.publicKey.isValidSignature(ecdsa, for: Data("\(protected).e30".utf8)))

        // POST-as-GET has an empty payload; a new account presents its JWK.
        let get = try JSONSerialization.jsonObject(with: try key.sign(payload: nil, url: "u", nonce: "n", as: .jwk)) as? [String: String]
        #expect(get?["payload"] == "")
        let getProtected = try #require(get?["protected"])
        let getHeaderBytes = try #require(Base64URL.decode(getProtected))
        let jwkHeader = try #require(try JSONSerialization.jsonObject(with: getHeaderBytes) as? [String: Any])
        let jwk = try #require(jwkHeader["jwk"] as? [String: String])
        #expect(jwk["kty"] == "EC" && jwk["crv"] == "P-256" && jwkHeader["kid"] == nil)
        // The thumbprint is SHA-256 over exactly {"crv","kty","x","y"} in that order, no spaces.
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"]!)","y":"\#(jwk["y"]!)"}"#
        #expect(key.thumbprint == Base64URL.encode(SHA256.hash(data: Data(canonical.utf8))))
        #expect(key.keyAuthorization(token: "tok") == "tok.\(key.thumbprint)")
    }

    @Test("base64url has no padding and the URL-safe alphabet")
    func base64url() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == Data([0xFB, 0xFF]))
    }
}
