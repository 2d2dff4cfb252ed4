public import Foundation
public import HopGateDomain
public import HopGatePorts
public import Logging
public import ServiceLifecycle

/// A ``CertificateSource`` that obtains certificates from an ACME CA (Let's Encrypt, Pebble …)
/// per RFC 8555, keeps them under a state directory and renews them before they expire.
///
/// - Names are served only once prepared (``prepare(_:)``: the server's domain at start-up and
///   each registered domain); any other name gets nil, and ``forget(_:)`` stops serving and
///   renewing a name and deletes its files.
/// - A saved certificate is reused after a restart without a new order.
/// - Renewal happens in ``run()``: at two thirds of the lifetime, or inside the window the CA
///   suggests through ACME Renewal Information (RFC 9773) when its directory offers it. Failed
///   orders are retried after a capped exponential backoff; while the CA is unreachable a pass
///   stops at the first failure, so a CA outage never becomes a request storm.
/// - Challenges are answered through ``challenges`` (give it to the port-80 and 443 listeners).
public actor ACMECertificateSource: CertificateSource, Service {
    /// Settings of the source, with defaults for Let's Encrypt.
    public struct Configuration: Sendable {
        /// The CA's directory URL.
        public var directoryURL: String
        /// Where the account key and certificates are kept (one directory per CA).
        public var stateDirectory: URL
        /// Contact address given to the CA for expiry notices; optional.
        public var contactEmail: String?
        /// Challenge types to answer, most preferred first. Default HTTP-01, then TLS-ALPN-01.
        public var challengeTypes: [ACMEChallengeType] = [.http01, .tlsALPN01]
        /// PEM CA certificates to trust for the CA's own HTTPS API (a private CA such as Pebble);
        /// empty: the system's trust store.
        public var trustedCAsPEM: [String] = []
        /// PEM roots clients trust for the issued certificates (``trustRootsPEM()``); empty for a
        /// public CA, whose roots are in every trust store.
        public var issuerRootsPEM: [String] = []
        /// How long an authorization or order may stay pending. Default 2 minutes.
        public var pollTimeout: Duration = .seconds(120)
        /// The first wait after a failed order; it doubles per failure. Default 1 minute.
        public var retryBase: Duration = .seconds(60)
        /// The longest wait between attempts. Default 1 hour.
        public var retryCap: Duration = .seconds(3600)
        /// The longest sleep of the renewal loop between checks. Default 1 hour.
        public var maximumCheckInterval: Duration = .seconds(3600)
        /// How long to keep trying to connect to the CA before a request fails. Default 10 s.
        public var connectTimeout: Duration = .seconds(10)

        public init(directoryURL: String, stateDirectory: URL) {
            self.directoryURL = directoryURL
            self.stateDirectory = stateDirectory
        }
    }

    /// What the source knows about one prepared name.
    private struct Entry {
        var certificate: CertifiedKey?
        /// The CA's suggested renewal window (ARI), with when to ask again.
        var window: ClosedRange<Date>?
        var windowRefresh: Date?
        /// Fixed per certificate, so the due point inside an ARI window does not move.
        var randomFraction = Double.random(in: 0...1)
        var failures = 0
        var nextAttempt: Date?
        var lastError: ACMEError?
    }

    /// Answers HTTP-01 and TLS-ALPN-01 challenges for the listeners.
    public nonisolated let challenges: ACMEChallengeBoard
    private let configuration: Configuration
    private let state: ACMEStateDirectory
    private let connection: ACMEConnection
    private let issuer: ACMEIssuer
    private let logger: Logger
    private let now: @Sendable () -> Date
    private var entries: [DomainName: Entry] = [:]
    private var inFlight: [DomainName: Task<CertifiedKey, any Error>] = [:]
    /// Set when a name or certificate changes, so the renewal loop recomputes its next wake-up.
    private var scheduleChanged = false

    /// Loads (or creates) the account key under the state directory; nothing is sent to the CA yet.
    /// - Parameter now: the clock renewal decisions use (tests move it forward).
    /// - Throws: ``ACMEError`` when the state directory or the trusted CA file is unusable.
    public init(configuration: Configuration, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) throws {
        let state = ACMEStateDirectory(url: configuration.stateDirectory)
        let key = try state.loadOrCreateAccountKey()
        let connection = try ACMEConnection(
            directoryURL: configuration.directoryURL, key: key, trustedCAsPEM: configuration.trustedCAsPEM,
            connectTimeout: configuration.connectTimeout, logger: logger)
        let challenges = ACMEChallengeBoard()
        self.configuration = configuration
        self.state = state
        self.connection = connection
        self.challenges = challenges
        self.issuer = ACMEIssuer(
            connection: connection, key: key, board: challenges, state: state, contactEmail: configuration.contactEmail,
            challengeTypes: configuration.challengeTypes, pollTimeout: configuration.pollTimeout, logger: logger)
        self.logger = logger
        self.now = now
    }

    public func certificate(for serverName: DomainName) async throws -> CertifiedKey? {
        validCertificate(for: serverName)
    }

    /// Serves `name` from now on: reuses its saved certificate, or orders one and waits for it.
    /// - Throws: ``ACMEError`` when there is no usable certificate and the order failed (it is
    ///   retried by ``run()`` after the backoff).
    public func prepare(_ name: DomainName) async throws {
        if entries[name] == nil {
            var entry = Entry()
            do {
                entry.certificate = try state.loadCertificate(for: name)
            } catch {
                logger.warning("ignoring a saved certificate", metadata: ["domain": "\(name)", "error": "\(error)"])
            }
            entries[name] = entry
            scheduleChanged = true
            if let certificate = entry.certificate {
                HopGateMetrics.setCertificateExpiry(domain: name.value, certificate.notAfter)
                logger.info("reusing the saved certificate", metadata: ["domain": "\(name)", "not_after": "\(certificate.notAfter)"])
            }
        }
        if let entry = entries[name], validCertificate(for: name) != nil, !isDue(entry) { return }
        if let entry = entries[name], let nextAttempt = entry.nextAttempt, nextAttempt > now() {
            if validCertificate(for: name) != nil { return }
            throw entry.lastError ?? ACMEError(.timedOut, "waiting to retry the order for \(name)")
        }
        do {
            _ = try await obtain(name)
        } catch {
            // A certificate still valid keeps being served while its renewal is retried.
            if validCertificate(for: name) != nil { return }
            throw error
        }
    }

    public func forget(_ name: DomainName) async {
        inFlight.removeValue(forKey: name)?.cancel()
        if entries.removeValue(forKey: name) != nil {
            state.removeCertificate(for: name)
            HopGateMetrics.setCertificateExpiry(domain: name.value, nil)
            logger.info("certificate no longer served or renewed", metadata: ["domain": "\(name)"])
        }
    }

    public func trustRootsPEM() async throws -> [String] { configuration.issuerRootsPEM }

    /// Renews what is due, then sleeps until the next renewal or retry (at most
    /// `maximumCheckInterval`, and no longer than a second past a change of names or
    /// certificates); ends on graceful shutdown or cancellation.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.renewDueCertificates()
                let wakeAt = ContinuousClock.now + .milliseconds(Int(await self.secondsUntilNextCheck() * 1000))
                await self.clearScheduleChanged()
                while ContinuousClock.now < wakeAt, await !self.scheduleChanged {
                    try await Task.sleep(for: min(.seconds(1), wakeAt - ContinuousClock.now))
                }
            }
        }
        await shutdown()
    }

    /// Cancels orders in flight and closes the connection to the CA (``run()`` does this when
    /// it ends; call it for a source that was never run).
    public func shutdown() async {
        for task in inFlight.values { task.cancel() }
        await connection.shutdown()
    }

    /// One renewal pass: refreshes renewal information where the CA offers it, then orders a
    /// certificate for each name that is due (or has none) and whose backoff has passed, one at
    /// a time. Stops at the first failure to reach the CA.
    public func renewDueCertificates() async {
        let renewalInfoURL = try? await connection.directory().renewalInfo
        for name in entries.keys.sorted(by: { $0.value < $1.value }) {
            if let renewalInfoURL { await refreshRenewalWindow(for: name, at: renewalInfoURL) }
            guard let entry = entries[name], entry.certificate == nil || isDue(entry) else { continue }
            if let nextAttempt = entry.nextAttempt, nextAttempt > now() { continue }
            do {
                _ = try await obtain(name)
            } catch let error as ACMEError where error.code == .transport {
                return
            } catch {
                continue
            }
        }
    }

    private func clearScheduleChanged() { scheduleChanged = false }

    /// The certificate for `name` if the source has one that has not expired.
    private func validCertificate(for name: DomainName) -> CertifiedKey? {
        guard let certificate = entries[name]?.certificate, certificate.notAfter > now() else { return nil }
        return certificate
    }

    /// When the certificate for `name` is due for renewal, if the source has one.
    public func renewalDate(for name: DomainName) -> Date? {
        guard let entry = entries[name], let certificate = entry.certificate else { return nil }
        return RenewalPlan.dueDate(notBefore: certificate.notBefore, notAfter: certificate.notAfter, window: entry.window, randomFraction: entry.randomFraction)
    }

    private func isDue(_ entry: Entry) -> Bool {
        guard let certificate = entry.certificate else { return true }
        return now() >= RenewalPlan.dueDate(
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, window: entry.window, randomFraction: entry.randomFraction)
    }

    private func secondsUntilNextCheck() -> TimeInterval {
        let current = now()
        var next = current.addingTimeInterval(Self.seconds(configuration.maximumCheckInterval))
        for (name, entry) in entries {
            if let due = renewalDate(for: name) { next = min(next, max(due, entry.nextAttempt ?? due)) }
            if entry.certificate == nil, let retry = entry.nextAttempt { next = min(next, retry) }
            if let refresh = entry.windowRefresh { next = min(next, refresh) }
        }
        return max(next.timeIntervalSince(current), 1)
    }

    /// Orders a certificate for `name`; concurrent callers for one name share the order.
    private func obtain(_ name: DomainName) async throws -> CertifiedKey {
        if let running = inFlight[name] { return try await Self.value(of: running) }
        let renewing = entries[name]?.certificate
        let replaces = renewing.flatMap { RenewalInfoIdentifier.of(leafPEM: $0.chainPEM[0]) }
        let issuer = self.issuer
        // Awaited right below by this caller (and by any concurrent one); cancelled with its
        // awaiter, by forget() and by shutdown().
        let task = Task { try await issuer.issue(for: name, replaces: replaces) }
        inFlight[name] = task
        defer { scheduleChanged = true }
        let started = ContinuousClock.now
        do {
            let certificate = try await Self.value(of: task)
            inFlight[name] = nil
            guard entries[name] != nil else { return certificate }  // forgotten meanwhile
            try state.saveCertificate(certificate, for: name)
            entries[name] = Entry(certificate: certificate)
            let outcome = renewing == nil ? "issued" : "renewed"
            let elapsed = ContinuousClock.now - started
            HopGateMetrics.recordCertificateOrder(outcome: outcome)
            HopGateMetrics.setCertificateExpiry(domain: name.value, certificate.notAfter)
            logger.notice("certificate \(outcome)", metadata: [
                "domain": "\(name)", "not_after": "\(certificate.notAfter)",
                "duration_ms": "\(elapsed.millisecondsToTenths)",
            ])
            return certificate
        } catch {
            inFlight[name] = nil
            let failure = error as? ACMEError ?? ACMEError(.transport, "the order for \(name) failed (\(error))")
            if var entry = entries[name] {
                entry.failures += 1
                let wait = RenewalPlan.backoff(
                    afterFailures: entry.failures, base: Self.seconds(configuration.retryBase), cap: Self.seconds(configuration.retryCap))
                entry.nextAttempt = now().addingTimeInterval(wait)
                entry.lastError = failure
                entries[name] = entry
                HopGateMetrics.recordCertificateOrder(outcome: "failed")
                logger.error("certificate order failed", metadata: [
                    "domain": "\(name)", "error": "\(failure)", "retry_in_s": "\(Int(wait))", "failures": "\(entry.failures)",
                ])
            }
            throw failure
        }
    }

    /// Asks the CA for its suggested renewal window when the last answer is stale.
    private func refreshRenewalWindow(for name: DomainName, at renewalInfoURL: String) async {
        guard let entry = entries[name], let certificate = entry.certificate,
              entry.windowRefresh.map({ $0 <= now() }) ?? true,
              let identifier = RenewalInfoIdentifier.of(leafPEM: certificate.chainPEM[0]) else { return }
        let base = renewalInfoURL.hasSuffix("/") ? renewalInfoURL : renewalInfoURL + "/"
        do {
            let response = try await connection.get(base + identifier, step: "reading renewal information for \(name)")
            let info = try ACMERenewalInfo.parse(response.body)
            guard var current = entries[name], current.certificate == certificate else { return }
            current.window = info.suggestedWindow.start...max(info.suggestedWindow.start, info.suggestedWindow.end)
            current.windowRefresh = now().addingTimeInterval(RenewalPlan.renewalInfoRefresh(retryAfter: response.retryAfter))
            entries[name] = current
            logger.debug("renewal window from the CA", metadata: [
                "domain": "\(name)", "start": "\(info.suggestedWindow.start)", "end": "\(info.suggestedWindow.end)",
                "explanation": "\(info.explanationURL ?? "")",
            ])
        } catch {
            // Without renewal information the two-thirds rule applies; ask again in an hour.
            entries[name]?.windowRefresh = now().addingTimeInterval(3600)
            logger.warning("renewal information unavailable", metadata: ["domain": "\(name)", "error": "\(error)"])
        }
    }

    /// The order's result; cancelling the caller cancels the order (a graceful shutdown must not
    /// wait for a CA that does not answer).
    private static func value(of task: Task<CertifiedKey, any Error>) async throws -> CertifiedKey {
        try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}
