public import HopGateDomain

/// The first thing a client says on a tunnel: which domain it serves and the key proving it
/// may, plus who it is. Fields are raw text as received; the hub parses and checks them so
/// that every transport refuses bad input with the same words.
public struct TunnelHello: Sendable, Hashable {
    public var domain: String
    /// The client API key. A secret: `description` masks it.
    public var clientAPIKey: String
    public var clientName: String
    public var clientVersion: String
    /// The path prefixes the client serves, which become the edge's routes for its tunnel
    /// (none means `/`). The hub parses them and refuses a hello with a malformed one.
    public var services: [TunnelServiceAdvertisement]

    public init(domain: String, clientAPIKey: String, clientName: String, clientVersion: String, services: [TunnelServiceAdvertisement] = []) {
        self.domain = domain
        self.clientAPIKey = clientAPIKey
        self.clientName = clientName
        self.clientVersion = clientVersion
        self.services = services
    }
}

extension TunnelHello: CustomStringConvertible {
    public var description: String {
        "hello(domain: \(domain), client: \(clientName)/\(clientVersion), key: \(clientAPIKey.prefix(4))…)"
    }
}

/// A service a client offers under a path prefix, e.g. `api` at `/api`.
public struct TunnelServiceAdvertisement: Sendable, Hashable {
    public var name: String
    public var pathPrefix: String
    /// Whether the client removes the prefix before its local service sees the path (it does
    /// the stripping and sets `X-Forwarded-Prefix`; the edge only reports the choice).
    public var stripPrefix: Bool
    public init(name: String, pathPrefix: String, stripPrefix: Bool = false) {
        self.name = name
        self.pathPrefix = pathPrefix
        self.stripPrefix = stripPrefix
    }
}

/// The server's answer to an accepted hello.
public struct TunnelWelcome: Sendable, Hashable {
    public var tunnelID: TunnelID
    public var domain: DomainName
    /// How often each side sends a heartbeat when otherwise idle.
    public var heartbeatInterval: Duration
    public var serverVersion: String
    /// How long the server's side of a draining tunnel waits for its in-flight exchanges before
    /// it closes the tunnel (``TunnelCloseReason/drainTimeout``). Server-side only: it is not
    /// sent to the client, whose welcome keeps the default.
    public var drainTimeout: Duration

    public init(
        tunnelID: TunnelID, domain: DomainName, heartbeatInterval: Duration, serverVersion: String,
        drainTimeout: Duration = TunnelLifecycle<ContinuousClock.Instant>.Configuration().drainTimeout
    ) {
        self.tunnelID = tunnelID
        self.domain = domain
        self.heartbeatInterval = heartbeatInterval
        self.serverVersion = serverVersion
        self.drainTimeout = drainTimeout
    }
}

/// A refused hello, with a reason fit to show the client (never the key).
/// Transports map the code onto their own status (gRPC: UNAUTHENTICATED, PERMISSION_DENIED,
/// INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE).
public struct TunnelRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The key is malformed or does not match the domain.
        case unauthenticated
        /// The domain is not registered, or the key belongs to another domain.
        case permissionDenied
        /// The hello itself is malformed (bad domain name, missing fields).
        case invalidHello
        /// The domain already has its maximum number of tunnels.
        case tooManyTunnels
        /// The server cannot check the hello now (store down, shutting down); retry later.
        case unavailable
    }
    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "tunnel refused (\(code.rawValue)): \(reason)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
