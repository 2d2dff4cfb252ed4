public import Foundation
public import HopGateDomain
public import HopGatePorts
import HopGateACME
import HopGateEdge
import HopGateSelfSignedCertificates
import Logging
import Synchronization
import NIOPosix

/// Every `CertificateSource`; the certificate contract suite runs unchanged against each
/// (`@Test(arguments: CertificateSourceKind.allCases)`). The ACME case starts a real Pebble and
/// answers its HTTP-01 challenges with HopGate's own port-80 listener.
public enum CertificateSourceKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case selfSigned
    case acme
    public var description: String { rawValue }
}

/// One source under test, with what the contract needs to drive it in adapter-neutral words.
public struct CertificateSourceHarness: Sendable {
    /// The source, opened over the harness's state directory.
    public let source: any CertificateSource
    /// Opens a second source over the same state (as a restarted server would).
    public let reopen: @Sendable () async throws -> any CertificateSource
    /// Lets time pass until a certificate issued now is due for renewal (a manual clock for the
    /// self-signed source; real waiting with short lifetimes for ACME).
    public let passRenewalTime: @Sendable () async throws -> Void
}

/// Runs `body` with a fresh source of `kind` in a temporary directory, removed afterwards.
public func withCertificateSource<Result>(
    _ kind: CertificateSourceKind,
    _ body: (CertificateSourceHarness) async throws -> Result
) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-certs-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    switch kind {
    case .selfSigned:
        let validity: TimeInterval = 90 * 86_400
        let clock = WallClockOffset()
        let open: @Sendable () throws -> any CertificateSource = {
            try SelfSignedCertificateSource(directory: directory, leafValidity: validity, now: { clock.now })
        }
        return try await body(CertificateSourceHarness(
            source: try open(),
            reopen: { try open() },
            passRenewalTime: { clock.advance(by: validity * 0.7) }))
    case .acme:
        return try await withACMECertificateSource(directory: directory, body)
    }
}

/// An ``ACMECertificateSource`` against a fresh Pebble (which refuses 20 % of nonces, so
/// `badNonce` retries happen), with `PublicHTTPServer` answering HTTP-01 on Pebble's port.
private func withACMECertificateSource<Result>(
    directory: URL, _ body: (CertificateSourceHarness) async throws -> Result
) async throws -> Result {
    let validity = 3600
    let clock = WallClockOffset()
    let opened = OpenedSources()
    let administration = DomainAdministration(store: InMemoryDomainStore(), logger: quietLogger)
    let router = PublicRequestRouter(
        hub: TunnelHub(administration: administration, configuration: .init(serverVersion: "test"), logger: quietLogger),
        administration: administration, configuration: .init(), timers: MultiThreadedEventLoopGroup.singleton, logger: quietLogger)
    let listening = AsyncStream.makeStream(of: Int.self)
    // The HTTP-01 listener binds port 0 before Pebble starts and Pebble is told the port it got:
    // a port chosen in advance could be taken meanwhile (seen once in CI, under ASan).
    let http = PublicHTTPServer(
        host: "127.0.0.1", port: 0, router: router, policy: .proxy, challenges: opened, logger: quietLogger,
        onListening: { listening.continuation.yield($0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        // The stream ends when the listener does, so a listener that cannot start fails the test
        // instead of waiting for ever.
        group.addTask {
            defer { listening.continuation.finish() }
            try await http.run()
        }
        defer { group.cancelAll() }
        var httpPort: Int?
        for await port in listening.stream { httpPort = port; break }
        guard let httpPort else { throw ChildProcessError(message: "the HTTP-01 listener could not listen on 127.0.0.1") }
        return try await withTestPebble(httpPort: httpPort, tlsPort: try freeLoopbackPort(), certificateValidity: validity, nonceRejectPercent: 20) { pebble in
            let open: @Sendable () throws -> ACMECertificateSource = {
                var configuration = ACMECertificateSource.Configuration(directoryURL: pebble.directoryURL, stateDirectory: directory)
                configuration.contactEmail = "hostmaster@example.com"
                configuration.challengeTypes = [.http01]
                configuration.trustedCAsPEM = [pebble.apiCAPEM]
                configuration.issuerRootsPEM = [pebble.issuerRootPEM]
                configuration.pollTimeout = .seconds(30)
                let source = try ACMECertificateSource(configuration: configuration, logger: quietLogger, now: { clock.now })
                opened.add(source)
                return source
            }
            let source = try open()
            do {
                let result = try await body(CertificateSourceHarness(
                    source: source,
                    reopen: { try open() },
                    passRenewalTime: {
                        // Pebble's times have one-second precision: a renewal in the same second
                        // would not expire later.
                        try await Task.sleep(for: .milliseconds(1100))
                        clock.advance(by: TimeInterval(validity) * 0.7)
                        await source.renewDueCertificates()
                    }))
                await opened.shutdownAll()
                return result
            } catch {
                await opened.shutdownAll()
                throw error
            }
        }
    }
}

/// Every ACME source a harness opened: their challenge boards are all served on port 80 (a
/// reopened source orders through its own board), and all are shut down at the end.
private final class OpenedSources: ChallengeResponder {
    private let sources = Mutex<[ACMECertificateSource]>([])

    func add(_ source: ACMECertificateSource) { sources.withLock { $0.append(source) } }

    func shutdownAll() async {
        for source in sources.withLock({ $0 }) { await source.shutdown() }
    }

    func http01KeyAuthorization(token: String) async -> String? {
        for source in sources.withLock({ $0 }) {
            if let answer = await source.challenges.http01KeyAuthorization(token: token) { return answer }
        }
        return nil
    }

    func tlsALPN01Certificate(for name: DomainName) async -> CertifiedKey? {
        for source in sources.withLock({ $0 }) {
            if let answer = await source.challenges.tlsALPN01Certificate(for: name) { return answer }
        }
        return nil
    }
}

private let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// The real time plus an offset a test moves forward.
final class WallClockOffset: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
}

/// Checks a certificate chain with openssl, a verifier independent of the code under test.
public enum CertificateCheck {
    /// Whether `key`'s chain verifies against `roots` for `name` at `time`, with the key
    /// matching the leaf. - Returns: nil when it does, else openssl's complaint.
    public static func problems(of key: CertifiedKey, for name: String, roots: [String], at time: Date = Date()) async throws -> String? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        guard let leafPEM = key.chainPEM.first else { return "the chain is empty" }
        let leaf = try write("leaf.pem", leafPEM)
        let chain = try write("chain.pem", key.chainPEM.dropFirst().joined(separator: "\n"))
        let root = try write("roots.pem", roots.joined(separator: "\n"))
        let privateKey = try write("key.pem", key.privateKeyPEM)
        var verify = ["openssl", "verify", "-CAfile", root, "-verify_hostname", name, "-purpose", "sslserver",
                      "-attime", "\(Int(time.timeIntervalSince1970))"]
        if key.chainPEM.count > 1 { verify += ["-untrusted", chain] }
        do {
            _ = try await runCommand(verify + [leaf])
        } catch {
            return "\(error)"
        }
        let leafKey = try await runCommand(["openssl", "x509", "-in", leaf, "-noout", "-pubkey"])
        let privateKeyPublic = try await runCommand(["openssl", "pkey", "-in", privateKey, "-pubout"])
        return leafKey == privateKeyPublic ? nil : "the private key does not belong to the leaf"
    }
}
