import Crypto
import Foundation
@testable import HopGateACME
import HopGateDomain
import HopGatePorts
import SwiftASN1
import Testing
import X509

@Suite("TLS-ALPN-01 challenge certificate")
struct TLSALPNChallengeCertificateTests {
    @Test("names only the domain and carries the critical acmeIdentifier with SHA-256 of the key authorization (RFC 8737 §3)")
    func certificate() throws {
        let name = try DomainName(parsing: "app.example.com")
        let key = try ACMEChallengeBoard.tlsALPN01Certificate(name: name, keyAuthorization: "token.thumb")
        let certificate = try Certificate(pemEncoded: key.chainPEM[0])
        let sans = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(Array(sans) == [.dnsName("app.example.com")])
        let identifier = try #require(certificate.extensions[oid: ACMEChallengeBoard.acmeIdentifierOID])
        #expect(identifier.critical)
        let octets = try ASN1OctetString(derEncoded: identifier.value)
        #expect(Array(octets.bytes) == Array(SHA256.hash(data: Data("token.thumb".utf8))))
        #expect(certificate.publicKey == Certificate.PublicKey(try P256.Signing.PrivateKey(pemRepresentation: key.privateKeyPEM).publicKey))
    }

    @Test("the board serves a posted challenge until it is taken down")
    func board() async throws {
        let board = ACMEChallengeBoard()
        let name = try DomainName(parsing: "app.example.com")
        board.postHTTP01(token: "t1", keyAuthorization: "t1.x")
        try board.postTLSALPN01(name: name, keyAuthorization: "t2.x")
        #expect(await board.http01KeyAuthorization(token: "t1") == "t1.x")
        #expect(await board.http01KeyAuthorization(token: "t2") == nil)
        #expect(await board.tlsALPN01Certificate(for: name) != nil)
        board.removeHTTP01(token: "t1")
        board.removeTLSALPN01(name: name)
        #expect(await board.http01KeyAuthorization(token: "t1") == nil)
        #expect(await board.tlsALPN01Certificate(for: name) == nil)
    }
}
