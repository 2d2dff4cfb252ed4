import Foundation
import HopGateACME
import HopGateDomain
import HopGateTestSupport
import Logging
import Testing

/// ACME Renewal Information (RFC 9773) against a CA that plays recorded answers (Debian's Pebble
/// has none): the source asks with the right certificate identifier, renews inside the window
/// the CA suggests, and backs off instead of asking again when the CA refuses.
@Suite("ACME renewal information (recorded CA)")
struct ACMERenewalInformationTests {
    let name = try! DomainName(parsing: "app.example.com")

    @Test("a window in the future moves the renewal date into it; no order is sent")
    func futureWindow() async throws {
        let now = Date()
        let start = now.addingTimeInterval(10 * 86_400), end = now.addingTimeInterval(11 * 86_400)
        try await withRecordedCA(window: start...end) { source, log, expectedIdentifier in
            try await source.prepare(name)
            #expect(await source.renewalDate(for: name).map { $0 > now.addingTimeInterval(50 * 86_400) } == true, "two thirds of 90 days before ARI")
            await source.renewDueCertificates()
            let due = try #require(await source.renewalDate(for: name))
            #expect(due >= start.addingTimeInterval(-1) && due <= end.addingTimeInterval(1), "\(due) outside \(start)…\(end)")
            let requests = log()
            #expect(requests.contains("GET /renewal-info/\(expectedIdentifier)"), "\(requests)")
            #expect(!requests.contains { $0.hasPrefix("POST") }, "\(requests)")
        }
    }

    @Test("a window already open renews at once; a refused order backs off without a request storm, the old certificate still served")
    func windowOpen() async throws {
        let now = Date()
        try await withRecordedCA(window: now.addingTimeInterval(-2 * 86_400)...now.addingTimeInterval(-86_400)) { source, log, _ in
            try await source.prepare(name)
            let old = try #require(try await source.certificate(for: name))
            await source.renewDueCertificates()
            #expect(log().filter { $0 == "POST /order" }.count == 1, "\(log())")
            for _ in 0..<5 { await source.renewDueCertificates() }
            #expect(log().filter { $0 == "POST /order" }.count == 1, "retried before the backoff: \(log())")
            #expect(try await source.certificate(for: name) == old)
        }
    }

    /// A source whose state holds a saved 90-day certificate for `name` (made with openssl), against
    /// the recorded CA; passes the source, the CA's request log, and the ARI identifier openssl
    /// says the certificate has.
    func withRecordedCA(
        window: ClosedRange<Date>, _ body: (ACMECertificateSource, @Sendable () -> [String], String) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let state = directory + "/state", certificates = state + "/certificates"
            try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
            let make = """
            set -e; cd \(directory)
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3 -subj /CN=Recorded-CA 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=\(name.value) 2>/dev/null
            printf 'subjectAltName=DNS:\(name.value)\\nauthorityKeyIdentifier=keyid\\n' > leaf.ext
            openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x87654321 -days 90 -extfile leaf.ext -out leaf.pem 2>/dev/null
            cat leaf.pem ca.pem > \(certificates)/\(name.value).chain.pem
            openssl pkey -in leaf.key -out \(certificates)/\(name.value).key.pem
            openssl x509 -in leaf.pem -noout -ext authorityKeyIdentifier | tail -1
            """
            let keyIdentifier = try await runCommand(["sh", "-c", make])
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "keyid:", with: "")
            let akiBytes = keyIdentifier.split(separator: ":").map { UInt8($0, radix: 16)! }
            // The serial 0x87654321 has its high bit set: DER prepends a zero byte.
            let expectedIdentifier = Self.base64url(akiBytes) + "." + Self.base64url([0x00, 0x87, 0x65, 0x43, 0x21])

            let formatter = ISO8601DateFormatter()
            let portFile = directory + "/port", logFile = directory + "/requests.log"
            FileManager.default.createFile(atPath: logFile, contents: nil)
            let script = fixtureScript("recorded_ca.py")
            try await withChildProcess("/usr/bin/env", ["python3", script, portFile, logFile,
                                                        formatter.string(from: window.lowerBound), formatter.string(from: window.upperBound)]) { _ in
                var port: String?
                for _ in 0..<200 where port == nil {
                    port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 }
                    if port == nil { try await Task.sleep(for: .milliseconds(25)) }
                }
                var configuration = ACMECertificateSource.Configuration(
                    directoryURL: "http://127.0.0.1:\(try #require(port))/directory", stateDirectory: URL(fileURLWithPath: state))
                configuration.retryBase = .seconds(600)
                let source = try ACMECertificateSource(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
                let log: @Sendable () -> [String] = {
                    ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                }
                do {
                    try await body(source, log, expectedIdentifier)
                } catch {
                    await source.shutdown()
                    throw error
                }
                await source.shutdown()
            }
        }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
