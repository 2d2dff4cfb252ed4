import Foundation
import HopGateDomain
import HopGateSelfSignedCertificates
import Testing

/// What the self-signed source promises beyond the `CertificateSource` contract: how it keeps
/// its CA on disk and how it refuses a broken one.
@Suite("Self-signed certificate source")
struct SelfSignedCertificateSourceTests {
    @Test("the CA is created once, its key readable by the owner only, and reused")
    func keepsTheCA() async throws {
        try await withTemporaryDirectory { directory in
            let folder = URL(fileURLWithPath: directory).appendingPathComponent("ca")
            let first = try SelfSignedCertificateSource(directory: folder)
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("ca-key.pem").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let folderAttributes = try FileManager.default.attributesOfItem(atPath: folder.path)
            #expect((folderAttributes[.posixPermissions] as? Int) == 0o700)
            let pem = try String(contentsOfFile: first.caCertificatePath, encoding: .utf8)
            _ = try SelfSignedCertificateSource(directory: folder)
            #expect(try String(contentsOfFile: first.caCertificatePath, encoding: .utf8) == pem)
        }
    }

    @Test("a corrupted CA file is refused with an error that names it and shows no key material")
    func refusesCorruption() async throws {
        try await withTemporaryDirectory { directory in
            let folder = URL(fileURLWithPath: directory).appendingPathComponent("ca")
            _ = try SelfSignedCertificateSource(directory: folder)
            let keyFile = folder.appendingPathComponent("ca-key.pem")
            let key = try String(contentsOf: keyFile, encoding: .utf8)
            try String(key.dropLast(40)).write(to: keyFile, atomically: true, encoding: .utf8)
            let keyError = #expect(throws: SelfSignedCertificateError.self) { try SelfSignedCertificateSource(directory: folder) }
            #expect(keyError?.description.contains(keyFile.path) == true)
            #expect(keyError?.description.contains("PRIVATE") == false)
            try key.write(to: keyFile, atomically: true, encoding: .utf8)

            let certificateFile = folder.appendingPathComponent("ca.pem")
            try "not a certificate".write(to: certificateFile, atomically: true, encoding: .utf8)
            let certificateError = #expect(throws: SelfSignedCertificateError.self) { try SelfSignedCertificateSource(directory: folder) }
            #expect(certificateError?.description.contains(certificateFile.path) == true)

            try FileManager.default.removeItem(at: certificateFile)
            let missing = #expect(throws: SelfSignedCertificateError.self) { try SelfSignedCertificateSource(directory: folder) }
            #expect(missing?.description.contains("missing") == true)
        }
    }
}
