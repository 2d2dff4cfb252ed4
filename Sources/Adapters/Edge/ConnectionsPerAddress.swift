import HopGateDomain
public import Logging
import NIOCore
import Synchronization

/// Counts the public edge's open connections per client address and refuses one over the limit:
/// it is closed right after the accept, before TLS, so one address cannot hold every socket or
/// make the edge do handshakes for it. Tunnel connections on the shared port count too, and so do
/// plain-HTTP connections when the same instance is given to ``PublicHTTPServer``: the limit is
/// on everything one address holds open at the edge.
public final class ConnectionsPerAddress: Sendable {
    /// Open connections allowed per address; 0 means no limit.
    public let maximum: Int
    private let logger: Logger
    private let open = Mutex<[String: Int]>([:])
    /// When a refusal was last logged: at most one warning a minute, however hard a client tries.
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    public init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    /// Counts `channel` against its address, or answers false when the address is at the limit.
    /// An admitted channel is uncounted when it closes.
    func admit(_ channel: any Channel) -> Bool {
        guard maximum > 0 else { return true }
        let address = PeerAddress(channel.remoteAddress).address
        let admitted = open.withLock { open -> Bool in
            let count = open[address, default: 0]
            guard count < maximum else { return false }
            open[address] = count + 1
            return true
        }
        guard admitted else {
            warnAboutRefusal(of: address)
            return false
        }
        channel.closeFuture.whenComplete { _ in
            self.open.withLock { open in
                let count = open[address, default: 1] - 1
                open[address] = count > 0 ? count : nil
            }
        }
        return true
    }

    /// Open connections from `address` (for tests and diagnostics).
    public func count(for address: String) -> Int { open.withLock { $0[address, default: 0] } }

    private func warnAboutRefusal(of address: String) {
        let now = ContinuousClock.now
        let due = lastWarning.withLock { last -> Bool in
            if let last, last.duration(to: now) < .seconds(60) { return false }
            last = now
            return true
        }
        if due {
            logger.warning("connection refused: too many open connections from one address", metadata: [
                "address": "\(address)", "maximum": "\(maximum)"])
        }
    }
}

/// Closes a connection as soon as it is active: how a connection over the limit is turned away.
final class CloseOnActive: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
}
