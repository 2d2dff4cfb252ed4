import Foundation
import HopGateACME
import HopGateAdminAPI
import HopGateDomain
import HopGateEdge
import HopGateGRPCTransport
import HopGateLocalForwarder
import HopGateObservability
import HopGatePorts
import HopGatePostgres
import HopGateSQLite
import HopGateSelfSignedCertificates
import Logging
import ServiceLifecycle
import UnixSignals

/// The server's composition root: picks the adapters the configuration names, wires them to the
/// use cases, and runs them as one service group that stops cleanly on SIGTERM/SIGINT.
struct ServerRuntime {
    let configuration: ServerConfiguration
    let logger: Logger
    /// The process-wide metrics backend (bootstrapped once by the command), rendered at `/metrics`.
    let exporter: PrometheusExporter
    /// `dev --demo`: see ``DemoMode``.
    var demo = false

    func run() async throws {
        switch configuration.store {
        case .sqlite(let path):
            let store: SQLiteDomainStore
            do { store = try await SQLiteDomainStore.open(path: path, logger: Logger(label: "store")) } catch {
                throw ServerStartupError(message: "cannot open the SQLite store: \(error.message)")
            }
            logger.info("domain store ready", metadata: ["store": "sqlite", "path": "\(path)"])
            do {
                try await runServices(store: store)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        case .postgres(let raw):
            let store: PostgresDomainStore
            let pool = PostgresPoolSettings(
                maximumConnections: configuration.databaseMaximumConnections, idleTimeout: configuration.databaseIdleTimeout)
            do { store = try PostgresDomainStore(dsn: try PostgresDSN(parsing: raw), pool: pool, logger: Logger(label: "store")) } catch {
                throw ServerStartupError(message: "HOP_DB_DSN: \(error)")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                do { try await store.migrate() } catch {
                    throw ServerStartupError(message: "cannot prepare the PostgreSQL store at \(store.dsn.redacted): \(error)")
                }
                logger.info("domain store ready", metadata: ["store": "postgres", "dsn": "\(store.dsn.redacted)"])
                try await runServices(store: store)
            }
        }
    }

    private func runServices(store: any DomainStore) async throws {
        // The hub verifies hellos through an administration of its own; the admin API's one
        // tells the hub when a domain is unregistered or its key rotated (its tunnels close).
        // One throttle for admin-key and client-key failures: an address guessing either is turned away from both.
        let throttle = AuthenticationThrottle(policy: .init(maximumFailures: configuration.authMaximumFailures, lockout: configuration.authLockout))
        let hub = TunnelHub(
            administration: DomainAdministration(store: store, logger: Logger(label: "admin")),
            configuration: .init(policy: configuration.tunnelPolicy, serverVersion: HopGateVersion.current),
            throttle: throttle, logger: Logger(label: "tunnels"))
        var services: [any Service] = []
        let (source, challenges, caFile) = try makeCertificateSource()
        if let acme = source as? ACMECertificateSource { services.append(acme) }
        // The edge asks the provisioner, which serves only the server's domain and registered ones.
        let certificates = CertificateProvisioner(
            source: source, serverDomain: configuration.domain, store: store, logger: Logger(label: "certificates"))
        services.append(certificates)
        let administration = DomainAdministration(store: store, observers: [hub, certificates], logger: Logger(label: "admin"))
        let credential: AdminCredential
        do {
            credential = try AdminCredential(
                configuredKey: configuration.adminKey,
                mode: configuration.mode == .development ? .development : .production)
        } catch {
            throw ServerStartupError(message: "HOP_ADMIN_API_KEY is refused: \(error.description)")
        }
        var site: ServerSiteRoute?
        if let admin = configuration.adminListen {
            let logger = self.logger
            let adminPort = BoundPort(configured: admin.port)
            let domain = configuration.domain
            services.append(try AdminAPIServer.service(
                administration: administration, credential: credential, throttle: throttle,
                host: admin.host, port: admin.port, logger: Logger(label: "admin"),
                onListening: { port in
                    adminPort.bound(port)
                    logger.notice("admin API listening on http://\(ListenAddress(host: admin.host, port: port))\(AdminAPIServer.basePath) and https://\(domain)\(AdminAPIServer.basePath)")
                }))
            // The edge serves the admin API on the server's own domain by forwarding to it.
            let forwarder = HTTPClientLocalForwarder()
            let adminHost = ["0.0.0.0", "::", ""].contains(admin.host) ? "127.0.0.1" : admin.host
            site = ServerSiteRoute(domain: domain, pathPrefix: AdminAPIServer.basePath, forwarder: forwarder) {
                LocalTarget(host: adminHost, port: adminPort.value)
            }
            // Closes the forwarder's pooled connections once the edges that use it have stopped.
            services.append(ClosureService {
                try? await gracefulShutdown()
                try? await forwarder.shutdown()
            })
        }
        let logger = self.logger
        // The tunnel shares the HTTPS port unless HOP_TUNNEL_LISTEN names a port of its own.
        let tunnelHandoff = configuration.tunnelListen == nil ? SharedPortTunnelHandoff() : nil
        if let tunnelHandoff {
            let listener = GRPCTunnelListener(
                sharing: tunnelHandoff, logger: Logger(label: "tunnels"), maximumStreams: configuration.maximumTunnelStreams)
            services.append(ClosureService { try await listener.run(acceptor: hub) })
        }
        if let tunnel = configuration.tunnelListen {
            let listener = GRPCTunnelListener(
                host: tunnel.host, port: tunnel.port, logger: Logger(label: "tunnels"), maximumStreams: configuration.maximumTunnelStreams,
                onListening: { port in
                    logger.notice("tunnel endpoint (gRPC, plaintext) listening on \(ListenAddress(host: tunnel.host, port: port))")
                })
            services.append(ClosureService { try await listener.run(acceptor: hub) })
        }
        let requestLimits = HTTP1RequestLimits(
            maximumTargetBytes: configuration.maximumTargetBytes, maximumHeaderCount: configuration.maximumHeaderCount,
            maximumHeaderBytes: configuration.maximumHeaderBytes)
        let http2Settings = HTTP2ConnectionSettings(
            maximumConcurrentStreams: configuration.maximumHTTP2Streams, initialWindowBytes: configuration.http2WindowBytes,
            maximumHeaderListBytes: configuration.maximumHeaderBytes)
        let router = PublicRequestRouter(
            hub: hub, administration: administration,
            configuration: .init(responseTimeout: configuration.proxyTimeout, maximumBodyBytes: configuration.maximumBodyBytes),
            site: site, logger: Logger(label: "proxy"))
        let https = configuration.httpsListen
        let httpsPort = BoundPort(configured: https.port)
        let httpBound = BoundPort(configured: 0)
        let connectionsPerAddress = ConnectionsPerAddress(
            maximum: configuration.maximumConnectionsPerAddress, logger: Logger(label: "edge"))
        let secureEdge = PublicHTTPSServer(
            host: https.host, port: https.port, certificates: certificates, defaultName: configuration.domain,
            router: router, tunnels: tunnelHandoff, challenges: challenges, requestHeadTimeout: configuration.requestHeadTimeout,
            requestLimits: requestLimits, http2Settings: http2Settings,
            connectionsPerAddress: connectionsPerAddress, logger: Logger(label: "edge"),
            onListening: { port in
                httpsPort.bound(port)
                logger.notice("public HTTPS listening on https://\(ListenAddress(host: https.host, port: port))")
                if tunnelHandoff != nil {
                    logger.notice("tunnel endpoint (gRPC over TLS, ALPN grpc-exp) shares the HTTPS port \(port)")
                }
            })
        services.append(GracefulService { try await secureEdge.run() })
        let http = configuration.httpListen
        let publicHTTPSPort = configuration.publicHTTPSPort
        let edge = PublicHTTPServer(
            host: http.host, port: http.port, router: router,
            policy: configuration.httpRedirectsToHTTPS ? .redirectToHTTPS(httpsPort: { publicHTTPSPort ?? httpsPort.value }) : .proxy,
            challenges: challenges, requestHeadTimeout: configuration.requestHeadTimeout, requestLimits: requestLimits,
            connectionsPerAddress: connectionsPerAddress, logger: Logger(label: "edge"),
            onListening: { port in
                httpBound.bound(port)
                let what = configuration.httpRedirectsToHTTPS ? "redirects to HTTPS" : "proxies"
                logger.notice("public HTTP listening on http://\(ListenAddress(host: http.host, port: port)) (\(what); answers ACME HTTP-01)")
            })
        services.append(GracefulService { try await edge.run() })
        if demo {
            guard let caFile else {
                throw ServerStartupError(message: "dev --demo needs the self-signed certificates; unset HOP_CERTIFICATES=acme")
            }
            let demo = DemoMode(
                administration: administration, httpsPort: httpsPort, serverName: configuration.domain,
                caFile: caFile, logger: logger)
            services.append(ClosureService { try await demo.run() })
        }
        if let operations = configuration.metricsListen {
            let domain = configuration.domain
            let server = OperationsServer(
                host: operations.host, port: operations.port, exporter: exporter,
                checks: [
                    .init(name: "https listener") { httpsPort.isBound },
                    .init(name: "http listener") { httpBound.isBound },
                    .init(name: "domain store") { (try? await store.count()) != nil },
                    .init(name: "certificates") { (try? await certificates.certificate(for: domain)) != nil },
                ],
                logger: Logger(label: "operations"),
                onListening: { port in
                    logger.notice("metrics and health listening on http://\(ListenAddress(host: operations.host, port: port)) (/metrics, /healthz, /readyz)")
                })
            services.append(ClosureService { try await server.run() })
        }
        let heap = FreeHeapReturner()
        services.append(ClosureService { await heap.run() })
        // On SIGTERM services stop in reverse order: the edges first (no new connections; those
        // open finish their requests), then the tunnels, the admin API last. Past the grace
        // period whatever is left is cancelled.
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        logger.notice("stopped")
    }

    /// The configured certificate source, the ACME challenge board (nil when self-signed) and
    /// the self-signed CA's file (nil with ACME).
    private func makeCertificateSource() throws -> (any CertificateSource, (any ChallengeResponder)?, String?) {
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        switch configuration.certificates {
        case .selfSigned:
            let source: SelfSignedCertificateSource
            do {
                source = try SelfSignedCertificateSource(directory: dataDirectory.appendingPathComponent("ca"))
            } catch {
                throw ServerStartupError(message: "HOP_DATA_DIR: the self-signed certificate authority is unusable: \(error)")
            }
            logger.notice("TLS certificates are self-signed by the CA at \(source.caCertificatePath) (trust it with curl --cacert, or add it to your system's trust store)")
            return (source, nil, source.caCertificatePath)
        case .acme(let settings):
            var acme = ACMECertificateSource.Configuration(
                directoryURL: settings.directoryURL,
                stateDirectory: dataDirectory.appendingPathComponent("acme").appendingPathComponent(Self.stateFolder(for: settings.directoryURL)))
            acme.contactEmail = settings.email
            acme.challengeTypes = settings.challenges.compactMap(ACMEChallengeType.init(rawValue:))
            if let caFile = settings.caFile {
                do {
                    acme.trustedCAsPEM = [try String(contentsOfFile: caFile, encoding: .utf8)]
                } catch {
                    throw ServerStartupError(message: "HOP_ACME_CA_FILE: cannot read \(caFile) (\(error.localizedDescription))")
                }
            }
            let source: ACMECertificateSource
            do {
                source = try ACMECertificateSource(configuration: acme, logger: Logger(label: "acme"))
            } catch {
                throw ServerStartupError(message: "ACME: \(error)")
            }
            logger.notice("TLS certificates come from the ACME CA at \(settings.directoryURL) (challenges: \(settings.challenges.joined(separator: ", ")))")
            return (source, source.challenges, nil)
        }
    }

    /// One state folder per CA (its account lives there): `acme-v02.api.letsencrypt.org`, `127.0.0.1_14000`.
    static func stateFolder(for directoryURL: String) -> String {
        let components = URLComponents(string: directoryURL)
        let host = components?.host ?? "ca"
        let name = components?.port.map { "\(host)_\($0)" } ?? host
        return String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}

/// A failure that stops start-up; its message names the setting or resource at fault.
struct ServerStartupError: Error {
    let message: String
}

/// A service whose work is a closure, cancelled on graceful shutdown.
/// A service that handles graceful shutdown itself (it finishes in-flight work, then returns).
struct GracefulService: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await body() }
}

/// A service that is simply cancelled on graceful shutdown.
struct ClosureService: Service {
    let body: @Sendable () async throws -> Void
    func run() async throws { try await cancelWhenGracefulShutdown { try await body() } }
}
