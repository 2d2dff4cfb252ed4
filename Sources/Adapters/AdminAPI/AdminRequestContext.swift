import Foundation
import HTTPTypes
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
    func clientAddress(_ request: Request) -> String {
        let peer = remoteAddress?.ipAddress ?? "unknown"
        guard peer == "127.0.0.1" || peer == "::1",
              let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
              let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return last
    }
}
