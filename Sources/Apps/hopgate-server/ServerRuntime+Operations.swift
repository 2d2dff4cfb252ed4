import HopGateObservability
import HopGatePorts
import Logging
import ServiceLifecycle

extension ServerRuntime {
    /// The operator's listener (`HOP_METRICS_LISTEN`): metrics, liveness and readiness; nil when
    /// it is not configured.
    func makeOperationsServer(store: any DomainStore, certificates: ServerCertificates, edge: ServerEdge) -> (any Service)? {
        guard let operations = configuration.metricsListen else { return nil }
        let logger = self.logger
        let domain = configuration.domain
        let provisioner = certificates.provisioner
        let httpsPort = edge.httpsPort
        let httpPort = edge.httpPort
        return OperationsServer(
            host: operations.host, port: operations.port, exporter: exporter,
            checks: [
                .init(name: "https listener") { httpsPort.isBound },
                .init(name: "http listener") { httpPort.isBound },
                .init(name: "domain store") { (try? await store.count()) != nil },
                .init(name: "certificates") { (try? await provisioner.certificate(for: domain)) != nil },
            ],
            logger: Logger(label: "operations"),
            onListening: { port in
                logger.notice("metrics and health listening on http://\(ListenAddress(host: operations.host, port: port)) (/metrics, /healthz, /readyz)")
            })
    }

    /// `dev --demo`: see ``DemoMode``.
    func makeDemo(administration: DomainAdministration, certificates: ServerCertificates, edge: ServerEdge) throws -> any Service {
        guard let caFile = certificates.caFile else {
            throw ServerStartupError(message: "dev --demo needs the self-signed certificates; unset HOP_CERTIFICATES=acme")
        }
        return DemoMode(
            administration: administration, httpsPort: edge.httpsPort, serverName: configuration.domain,
            caFile: caFile, logger: logger)
    }
}
