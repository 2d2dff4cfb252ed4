public import HopGateDomain
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps a ``CertificateSource`` in step with the domains HopGate serves, and is the source the
/// edge asks: the server's own domain and every registered domain get a certificate, nothing
/// else does (a TLS client naming any other host is refused with `unrecognized_name`).
///
/// - At start-up ``run()`` prepares the server's domain, then every stored domain, one at a time.
/// - A registration queues the new domain for preparation (the admin request does not wait for
///   a CA); an unregistration makes the source forget the domain at once.
/// - A handshake for a registered domain the source does not have yet (registered by another
///   server instance, or still queued) prepares it on the spot.
/// - Handshakes for unknown names are answered from a short-lived negative cache, so a scanner
///   cycling through names costs one store lookup per name per ``Configuration/negativeCacheTTL``.
public final class CertificateProvisioner: CertificateSource, DomainLifecycleObserver, Service {
    /// Settings of the provisioner.
    public struct Configuration: Sendable {
        /// How long "not a registered domain" is remembered. Default 30 s.
        public var negativeCacheTTL: Duration = .seconds(30)
        /// Most names remembered as unknown; the oldest are dropped beyond it. Default 10,000.
        public var negativeCacheLimit = 10_000
        public init() {}
    }

    private let source: any CertificateSource
    private let serverDomain: DomainName
    private let store: any DomainStore
    private let configuration: Configuration
    private let logger: Logger
    private let queue: AsyncStream<DomainName>
    private let enqueue: AsyncStream<DomainName>.Continuation
    private let unknown = Mutex<[DomainName: ContinuousClock.Instant]>([:])

    public init(source: any CertificateSource, serverDomain: DomainName, store: any DomainStore, configuration: Configuration = .init(), logger: Logger) {
        self.source = source
        self.serverDomain = serverDomain
        self.store = store
        self.configuration = configuration
        self.logger = logger
        (queue, enqueue) = AsyncStream.makeStream(of: DomainName.self)
    }

    public func certificate(for serverName: DomainName) async throws -> CertifiedKey? {
        if let key = try await source.certificate(for: serverName) { return key }
        guard try await isServed(serverName) else { return nil }
        try await source.prepare(serverName)
        return try await source.certificate(for: serverName)
    }

    public func prepare(_ name: DomainName) async throws { try await source.prepare(name) }

    public func forget(_ name: DomainName) async { await source.forget(name) }

    public func trustRootsPEM() async throws -> [String] { try await source.trustRootsPEM() }

    public func domainRegistered(_ record: DomainRecord) async {
        _ = unknown.withLock { $0.removeValue(forKey: record.domain) }
        enqueue.yield(record.domain)
    }

    public func domainUnregistered(_ domain: DomainName) async {
        await source.forget(domain)
    }

    /// Prepares the server's domain and the stored domains, then each newly registered one, until
    /// graceful shutdown. A failure is logged and left to the source to retry.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.prepareLogged(self.serverDomain)
            var cursor: DomainName?
            while !Task.isCancelled {
                let page: [DomainRecord]
                do { page = try await self.store.list(after: cursor, limit: 500) } catch {
                    // The rest get their certificates on their first handshake.
                    self.logger.warning("cannot list the registered domains to prepare their certificates", metadata: ["error": "\(error)"])
                    break
                }
                guard !page.isEmpty else { break }
                for record in page where record.domain != self.serverDomain { await self.prepareLogged(record.domain) }
                cursor = page.last?.domain
            }
            for await name in self.queue { await self.prepareLogged(name) }
        }
        enqueue.finish()
    }

    private func prepareLogged(_ name: DomainName) async {
        do {
            try await source.prepare(name)
        } catch {
            logger.error("no certificate yet", metadata: ["domain": "\(name)", "error": "\(error)"])
        }
    }

    private func isServed(_ name: DomainName) async throws -> Bool {
        if name == serverDomain { return true }
        let now = ContinuousClock.now
        let ttl = configuration.negativeCacheTTL
        if unknown.withLock({ $0[name].map { now - $0 < ttl } ?? false }) { return false }
        if try await store.find(name) != nil { return true }
        unknown.withLock { cache in
            if cache.count >= configuration.negativeCacheLimit {
                cache = cache.filter { now - $0.value < ttl }
                if cache.count >= configuration.negativeCacheLimit, let oldest = cache.min(by: { $0.value < $1.value })?.key {
                    cache[oldest] = nil
                }
            }
            cache[name] = now
        }
        return false
    }
}
