import HopGateDomain
public import Hummingbird
public import Logging

/// The admin API's request context: Hummingbird's basics plus the client the request is from.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client the request is from: the connection's peer on the admin listener; on the
    /// public edge, the public client's address as the edge took it from its socket
    /// (``AdminAPISite``). No header is trusted for it: `X-Forwarded-For` is the client's claim.
    let clientAddress: PeerAddress

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let socket = source.channel.remoteAddress
        self.clientAddress = socket.flatMap { socket in socket.ipAddress.map { PeerAddress(address: $0, port: socket.port) } } ?? .unknown
    }

    /// A request the edge hands over in process.
    init(clientAddress: PeerAddress, logger: Logger) {
        self.coreContext = .init(source: InProcessSource(logger: logger))
        self.clientAddress = clientAddress
    }
}

/// What an in-process request's context is made from: the logger alone.
private struct InProcessSource: RequestContextSource {
    let logger: Logger
}
