import Foundation
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Testing

/// What every `CertificateSource` must do, run unchanged against each adapter.
@Suite("CertificateSource contract")
struct CertificateSourceContract {
    let name = try! DomainName(parsing: "app.example.com")
    let other = try! DomainName(parsing: "other.example.com")

    @Test("a prepared name gets a chain that verifies for that name, with its own key", arguments: CertificateSourceKind.allCases)
    func issues(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            try await harness.source.prepare(name)
            let key = try #require(try await harness.source.certificate(for: name))
            let roots = try await harness.source.trustRootsPEM()
            #expect(!roots.isEmpty)
            #expect(try await CertificateCheck.problems(of: key, for: name.value, roots: roots) == nil)
            #expect(key.names.contains(name))
            #expect(key.notBefore <= Date() && Date() < key.notAfter)
            // The description shows no key material.
            #expect(!key.description.contains("PRIVATE KEY"))
        }
    }

    @Test("each name gets a certificate for itself only; asking again gives the same one", arguments: CertificateSourceKind.allCases)
    func perName(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            try await harness.source.prepare(name)
            try await harness.source.prepare(other)
            let first = try #require(try await harness.source.certificate(for: name))
            let second = try #require(try await harness.source.certificate(for: other))
            let roots = try await harness.source.trustRootsPEM()
            #expect(try await CertificateCheck.problems(of: second, for: other.value, roots: roots) == nil)
            #expect(try await CertificateCheck.problems(of: first, for: other.value, roots: roots) != nil)
            #expect(first.chainPEM[0] != second.chainPEM[0])
            #expect(try await harness.source.certificate(for: name) == first)
        }
    }

    @Test("concurrent handshakes for one name share one certificate", arguments: CertificateSourceKind.allCases)
    func concurrent(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            try await harness.source.prepare(name)
            let source = harness.source
            let name = self.name
            let leaves = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<50 { group.addTask { try await source.certificate(for: name)?.chainPEM.first } }
                return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
            }
            #expect(leaves.count == 1 && leaves.first! != nil)
        }
    }

    @Test("a certificate due for renewal is replaced by a newer one that verifies", arguments: CertificateSourceKind.allCases)
    func renews(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            try await harness.source.prepare(name)
            let old = try #require(try await harness.source.certificate(for: name))
            try await harness.passRenewalTime()
            let renewed = try #require(try await harness.source.certificate(for: name))
            #expect(renewed.chainPEM[0] != old.chainPEM[0])
            #expect(renewed.notAfter > old.notAfter)
            let roots = try await harness.source.trustRootsPEM()
            #expect(try await CertificateCheck.problems(of: renewed, for: name.value, roots: roots, at: renewed.notBefore.addingTimeInterval(60)) == nil)
        }
    }

    @Test("state survives a restart: the same roots are trusted", arguments: CertificateSourceKind.allCases)
    func persists(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            try await harness.source.prepare(name)
            let key = try #require(try await harness.source.certificate(for: name))
            let roots = try await harness.source.trustRootsPEM()
            let reopened = try await harness.reopen()
            #expect(try await reopened.trustRootsPEM() == roots)
            try await reopened.prepare(name)
            let again = try #require(try await reopened.certificate(for: name))
            #expect(try await CertificateCheck.problems(of: again, for: name.value, roots: roots) == nil)
            #expect(try await CertificateCheck.problems(of: key, for: name.value, roots: try await reopened.trustRootsPEM()) == nil)
        }
    }

    @Test("a name never prepared, or forgotten, gets no certificate", arguments: CertificateSourceKind.allCases)
    func unknownNames(_ kind: CertificateSourceKind) async throws {
        try await withCertificateSource(kind) { harness in
            #expect(try await harness.source.certificate(for: name) == nil)
            try await harness.source.prepare(name)
            #expect(try await harness.source.certificate(for: name) != nil)
            #expect(try await harness.source.certificate(for: other) == nil)
            await harness.source.forget(name)
            #expect(try await harness.source.certificate(for: name) == nil)
        }
    }
}
