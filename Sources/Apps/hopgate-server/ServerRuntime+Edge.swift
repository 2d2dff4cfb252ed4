import HopGateEdge
import HopGatePorts
import Logging
import ServiceLifecycle
import NIOPosix

/// What the edge concern hands the rest of the server.
struct ServerEdge {
    /// The HTTPS port, once bound (0 configured in tests).
    let httpsPort: BoundPort
    /// The plain HTTP port, once bound.
    let httpPort: BoundPort
    /// The HTTPS listener, then the HTTP one.
    let services: [any Service]
}

extension ServerRuntime {
    /// The public listeners (HTTPS, HTTP) in front of the request router.
    func makeEdge(
        hub: TunnelHub, administration: DomainAdministration, certificates: ServerCertificates, site: ServerSiteRoute?,
        tunnelHandoff: SharedPortTunnelHandoff?
    ) -> ServerEdge {
        let configuration = self.configuration
        let logger = self.logger
        let requestLimits = HTTP1RequestLimits(
            maximumTargetBytes: configuration.maximumTargetBytes, maximumHeaderCount: configuration.maximumHeaderCount,
            maximumHeaderBytes: configuration.maximumHeaderBytes)
        let http2Settings = HTTP2ConnectionSettings(
            maximumConcurrentStreams: configuration.maximumHTTP2Streams, initialWindowBytes: configuration.http2WindowBytes,
            maximumHeaderListBytes: configuration.maximumHeaderBytes)
        let router = PublicRequestRouter(
            hub: hub, administration: administration,
            configuration: configuration.routerConfiguration,
            site: site, timers: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "proxy"))
        let https = configuration.httpsListen
        let httpsPort = BoundPort(configured: https.port)
        let httpPort = BoundPort(configured: 0)
        let connectionsPerAddress = ConnectionsPerAddress(
            maximum: configuration.maximumConnectionsPerAddress, logger: Logger(label: "edge"))
        let secureEdge = PublicHTTPSServer(
            host: https.host, port: https.port, certificates: certificates.provisioner, defaultName: configuration.domain,
            router: router, tunnels: tunnelHandoff, challenges: certificates.challenges, requestHeadTimeout: configuration.requestHeadTimeout,
            requestLimits: requestLimits, http2Settings: http2Settings,
            connectionsPerAddress: connectionsPerAddress, logger: Logger(label: "edge"),
            onListening: { port in
                httpsPort.bound(port)
                logger.notice("public HTTPS listening on https://\(ListenAddress(host: https.host, port: port))")
                if tunnelHandoff != nil {
                    logger.notice("tunnel endpoint (gRPC over TLS, ALPN grpc-exp) shares the HTTPS port \(port)")
                }
            })
        let http = configuration.httpListen
        let publicHTTPSPort = configuration.publicHTTPSPort
        let plainEdge = PublicHTTPServer(
            host: http.host, port: http.port, router: router,
            policy: configuration.httpRedirectsToHTTPS ? .redirectToHTTPS(httpsPort: { publicHTTPSPort ?? httpsPort.value }) : .proxy,
            challenges: certificates.challenges, requestHeadTimeout: configuration.requestHeadTimeout, requestLimits: requestLimits,
            connectionsPerAddress: connectionsPerAddress, logger: Logger(label: "edge"),
            onListening: { port in
                httpPort.bound(port)
                let what = configuration.httpRedirectsToHTTPS ? "redirects to HTTPS" : "proxies"
                logger.notice("public HTTP listening on http://\(ListenAddress(host: http.host, port: port)) (\(what); answers ACME HTTP-01)")
            })
        return ServerEdge(httpsPort: httpsPort, httpPort: httpPort, services: [secureEdge, plainEdge])
    }
}
