import HopGatePorts
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to local services, per ``LocalTarget``: an exchange takes the
/// most recently used idle connection or opens a new one; a connection whose exchange ended
/// whole goes back, up to a bound per target, and closes after an idle timeout.
///
/// An exchange whose task runs on an event loop (the client's exchange streams prefer one, see
/// ``EventLoopTaskExecutor``) takes an idle connection of that loop first, and opens new ones on
/// it: its writes to the service and the service's answer then stay on one thread, with no
/// hand-over to another loop and no wake-up of it.
final class HTTP1ConnectionPool: Sendable {
    private struct State {
        var idle: [LocalTarget: [PooledHTTP1Connection]] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let maximumIdlePerTarget: Int

    init(connectTimeout: TimeAmount, idleTimeout: TimeAmount, maximumIdlePerTarget: Int) {
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maximumIdlePerTarget = maximumIdlePerTarget
    }

    /// An open connection for one exchange, and whether it was reused from the pool (then the
    /// service may have closed it meanwhile, unseen).
    nonisolated(nonsending) func acquire(_ target: LocalTarget) async throws -> (connection: PooledHTTP1Connection, reused: Bool) {
        while let candidate = state.withLock({ Self.takeIdle(from: &$0.idle[target, default: []]) }) {
            if candidate.isOpen && candidate.beginExchange() { return (candidate, true) }
            candidate.close()
        }
        return (try await connect(target), false)
    }

    /// The most recently used idle connection on the caller's event loop, else the most recently
    /// used one.
    private static func takeIdle(from idle: inout [PooledHTTP1Connection]) -> PooledHTTP1Connection? {
        if let index = idle.lastIndex(where: { $0.channel.eventLoop.inEventLoop }) { return idle.remove(at: index) }
        return idle.popLast()
    }

    /// Opens a new connection to `target`, ready for one exchange, on the caller's event loop when
    /// it runs on one.
    nonisolated(nonsending) func connect(_ target: LocalTarget) async throws -> PooledHTTP1Connection {
        let group: any EventLoopGroup = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton
        return try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = PooledHTTP1Connection(channel: channel)
                    let operations = channel.pipeline.syncOperations
                    // The last handler writes the requests and tells the reader of each, so it
                    // knows a HEAD answer has no body.
                    let reader = HTTP1ResponseReader()
                    try operations.addHandler(reader)
                    try operations.addHandler(PooledConnectionHandler(connection: connection, reader: reader))
                    return connection
                }
            }
    }

    /// Returns a connection whose exchange ended whole and which may be kept alive; closes it
    /// when the pool is full or shut down.
    func release(_ connection: PooledHTTP1Connection, to target: LocalTarget) {
        guard connection.becomeIdle(idleTimeout: idleTimeout) else {
            connection.close()
            return
        }
        let kept = state.withLock { state in
            guard !state.shutDown else { return false }
            if state.idle[target, default: []].count >= maximumIdlePerTarget {
                state.idle[target, default: []].removeAll { !$0.isOpen }
                guard state.idle[target, default: []].count < maximumIdlePerTarget else { return false }
            }
            state.idle[target, default: []].append(connection)  // in place: no copy of the stack
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every idle connection; connections released later are closed too.
    func shutdown() async {
        let idle = state.withLock { state in
            state.shutDown = true
            defer { state.idle = [:] }
            return state.idle.values.flatMap { $0 }
        }
        for connection in idle {
            connection.close()
            try? await connection.channel.closeFuture.get()
        }
    }
}
