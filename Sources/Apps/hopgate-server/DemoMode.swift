import HopGateDomain
import HopGateGRPCTransport
import HopGateLocalForwarder
import HopGatePorts
import Logging
import ServiceLifecycle

/// `hopgate-server dev --demo`: registers `demo.localhost` (a new key each start), serves a tiny
/// built-in backend on a loopback port, connects an in-process `hopgate-client` equivalent to it
/// through the real path (TLS to the HTTPS port, ALPN `grpc-exp`, the dev CA), and prints the
/// `curl` line that works.
struct DemoMode: Service {
    static let domain = "demo.localhost"

    let administration: DomainAdministration
    let httpsPort: BoundPort
    let serverName: DomainName
    let caFile: String
    let logger: Logger

    /// Runs the demo until the server's graceful shutdown cancels it.
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await runDemo() }
    }

    private func runDemo() async throws {
        while !httpsPort.isBound { try await Task.sleep(for: .milliseconds(20)) }
        let key = try await issueKey()
        let forwarder = PooledHTTP1Forwarder()
        do {
            try await serve(key: key, forwarder: forwarder)
        } catch {
            try? await forwarder.shutdown()
            throw error
        }
        try? await forwarder.shutdown()
    }

    /// A fresh key for `demo.localhost`: registered the first time, rotated after that.
    private func issueKey() async throws -> ClientAPIKey {
        do {
            return try await administration.register(domain: Self.domain, memo: "hopgate-server dev --demo").clientAPIKey
        } catch {
            guard error.code == .conflict else { throw error }
            return try await administration.rotateKey(domain: Self.domain).clientAPIKey
        }
    }

    private func serve(key: ClientAPIKey, forwarder: PooledHTTP1Forwarder) async throws {
        let backendPort = BoundPort(configured: 0)
        let port = httpsPort.value
        let serverName = self.serverName.value
        let caFile = self.caFile
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await DemoBackend(port: backendPort).run() }
            while !backendPort.isBound { try await Task.sleep(for: .milliseconds(10)) }
            let service = try LocalService(parsing: "demo=/=127.0.0.1:\(backendPort.value)")
            let router = try LocalServiceRouter(
                domain: try DomainName(parsing: Self.domain), services: [service], forwarder: forwarder, logger: Logger(label: "demo"))
            let connector = GRPCTunnelConnector(
                host: "127.0.0.1", port: port, security: .tls(serverName: serverName, caFile: caFile), logger: Logger(label: "demo"))
            let hello = TunnelHello(
                domain: Self.domain, clientAPIKey: key.secret, clientName: "hopgate-server-demo", clientVersion: HopGateVersion.current)
            let curl = "curl --cacert \(caFile) --resolve \(Self.domain):\(port):127.0.0.1 https://\(Self.domain):\(port)/"
            let client = TunnelClient(connector: connector, hello: hello, handler: router, logger: Logger(label: "demo")) { status in
                if case .connected = status { logger.notice("demo ready, try: \(curl)") }
            }
            group.addTask { try await client.run() }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
