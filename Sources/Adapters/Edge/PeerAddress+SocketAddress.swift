import HopGateDomain
import NIOCore

extension PeerAddress {
    /// The address and port of a socket's peer; ``PeerAddress/unknown`` for a channel without one.
    init(_ socketAddress: SocketAddress?) {
        guard let socketAddress, let address = socketAddress.ipAddress else {
            self = .unknown
            return
        }
        self.init(address: address, port: socketAddress.port)
    }
}
