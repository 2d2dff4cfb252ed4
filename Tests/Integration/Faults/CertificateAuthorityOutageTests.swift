import Foundation
import HopGateACME
import HopGateDomain
import HopGateTestSupport
import Synchronization
import Testing

/// The ACME CA unreachable when a certificate is due for renewal (nothing listens at its
/// address): the saved certificate keeps being served, the failure is logged with when it will be
/// retried, and retries back off instead of hammering the CA. The clock is the source's own,
/// moved forward by the test.
@Suite("ACME CA unreachable at renewal")
struct CertificateAuthorityOutageTests {
    let name = try! DomainName(parsing: "app.example.com")

    @Test("the saved certificate keeps being served; each failure is logged with its retry time; retries wait 60 s, then 120 s; a restart still serves it")
    func unreachableAtRenewal() async throws {
        try await withTemporaryDirectory { directory in
            let state = directory + "/state"
            try await saveNinetyDayCertificate(in: state + "/certificates", workingDirectory: directory)
            let unreachable = "http://127.0.0.1:\(try freeLoopbackPort())/directory"
            let clock = MovableClock()
            let logs = CapturedLogs()
            var configuration = ACMECertificateSource.Configuration(directoryURL: unreachable, stateDirectory: URL(fileURLWithPath: state))
            configuration.retryBase = .seconds(60)
            configuration.connectTimeout = .seconds(1)  // a refused connection is retried until then
            let source = try ACMECertificateSource(configuration: configuration, logger: logs.logger(), now: { clock.now })
            try await source.prepare(name)
            let saved = try #require(try await source.certificate(for: name))

            clock.advance(days: 70)  // past two thirds of 90 days: due, not yet expired
            await source.renewDueCertificates()
            let failures = { logs.lines.filter { $0.message == "certificate order failed" } }
            #expect(try await source.certificate(for: name) == saved)
            #expect(failures().count == 1, "\(logs.text)")
            #expect(failures().first?.metadata["retry_in_s"] == "60", "\(logs.text)")
            #expect(failures().first?.metadata["domain"] == name.value)

            for _ in 0..<5 { await source.renewDueCertificates() }
            #expect(failures().count == 1, "retried before the backoff passed: \(logs.text)")

            clock.advance(seconds: 61)
            await source.renewDueCertificates()
            #expect(failures().count == 2, "\(logs.text)")
            #expect(failures().last?.metadata["retry_in_s"] == "120", "\(logs.text)")
            #expect(try await source.certificate(for: name) == saved)
            await source.shutdown()

            // A restart while the CA is still away: start-up does not fail, the saved one is served.
            let restarted = try ACMECertificateSource(configuration: configuration, logger: logs.logger(), now: { clock.now })
            try await restarted.prepare(name)
            #expect(try await restarted.certificate(for: name) == saved)
            await restarted.shutdown()
        }
    }

    /// A 90-day certificate for `name` and its key, made with openssl, where the source keeps them.
    private func saveNinetyDayCertificate(in certificates: String, workingDirectory directory: String) async throws {
        try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
        try await runCommand(["sh", "-c", """
            set -e; cd \(directory)
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3 -subj /CN=Outage-CA 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=\(name.value) 2>/dev/null
            printf 'subjectAltName=DNS:\(name.value)\\n' > leaf.ext
            openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x1234 -days 90 -extfile leaf.ext -out leaf.pem 2>/dev/null
            cat leaf.pem ca.pem > \(certificates)/\(name.value).chain.pem
            openssl pkey -in leaf.key -out \(certificates)/\(name.value).key.pem
            """])
    }
}

/// A wall clock the test moves forward.
private final class MovableClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(days: Double) { offset.withLock { $0 += days * 86_400 } }
    func advance(seconds: Double) { offset.withLock { $0 += seconds } }
}
