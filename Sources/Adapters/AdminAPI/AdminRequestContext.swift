import Foundation
import HTTPTypes
import HopGateDomain
public import Hummingbird
public import NIOCore

/// The admin API's request context: Hummingbird's basics plus the address the request came from.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client the request is from: the peer's address, or — when the peer is this machine,
    /// which is how the public edge forwards `https://<domain>/api/v1/admin` — the address the
    /// edge appended last to `X-Forwarded-For` (earlier entries are the client's own claims).
    /// The edge writes that entry as a bare address (``PeerAddress/address``), never with a port.
    func clientAddress(_ request: Request) -> PeerAddress {
        let peer = remoteAddress.flatMap { socket in socket.ipAddress.map { PeerAddress(address: $0, port: socket.port) } } ?? .unknown
        guard peer.isLoopback,
              let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
              let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return PeerAddress(address: last)
    }
}
