import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import Synchronization

/// The tunnel's HTTP/2 connection as grpc-swift's client transport made it. grpc-swift serves
/// the Control stream on it; the connector opens the Exchange streams of a tunnel that reuses
/// them on it itself, each served by a ``ClientExchangeStreamHandler`` instead of grpc-swift's
/// per-stream pipeline and tasks.
final class ClientTunnelConnection: Sendable {
    private let channel = Mutex<(any Channel)?>(nil)
    /// The request headers of an Exchange stream, as grpc-swift sends them for a call.
    let exchangeRequestHeaders: HPACKHeaders

    /// - Parameters:
    ///   - scheme: `https` over TLS, else `http`.
    ///   - authority: the server's name (and port) as the transport sends it.
    init(scheme: String, authority: String) {
        var headers = HPACKHeaders()
        headers.add(name: ":method", value: "POST")
        headers.add(name: ":scheme", value: scheme)
        headers.add(name: ":path", value: ExchangeStreamHandler.exchangePath)
        headers.add(name: ":authority", value: authority)
        headers.add(name: "content-type", value: "application/grpc")
        headers.add(name: "te", value: "trailers")
        headers.add(name: "user-agent", value: "hopgate-client")
        exchangeRequestHeaders = headers
    }

    /// Remembers a connection the transport has just configured; for its `onCreateTCPConnection`.
    func connectionCreated(_ channel: any Channel) {
        self.channel.withLock { $0 = channel }
    }

    /// Opens an Exchange stream on the current connection, served by a new
    /// ``ClientExchangeStreamHandler``; it sends its request headers and Attach at once.
    /// - Returns: the stream's channel; its close future tells when the stream is over.
    func openExchangeStream(_ settings: ClientExchangeStreamSettings, tasks: ClientExchangeTasks) async throws -> any Channel {
        guard let connection = channel.withLock({ $0 }), connection.isActive else {
            throw RPCError(code: .unavailable, message: "the tunnel connection is gone")
        }
        let headers = exchangeRequestHeaders
        return try await connection.eventLoop.flatSubmit { () -> EventLoopFuture<any Channel> in
            do {
                let multiplexer = try connection.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
                return multiplexer.createStreamChannel { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandler(
                            ClientExchangeStreamHandler(settings: settings, requestHeaders: headers, tasks: tasks))
                    }
                }
            } catch {
                return connection.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }
}

/// The running exchange's task of one client Exchange stream, shared by the stream's handler
/// (which starts each exchange's task, one after the other) and the task that owns the stream
/// (which awaits the last one once the stream has closed).
final class ClientExchangeTasks: Sendable {
    private let last = Mutex<Task<Void, Never>?>(nil)

    func started(_ task: Task<Void, Never>) { last.withLock { $0 = task } }

    /// The last exchange's task, if one was started.
    var lastStarted: Task<Void, Never>? { last.withLock { $0 } }
}
