import AsyncAlgorithms
import Foundation
package import GRPCCore
import HopGateDomain
package import HopGatePorts
package import Logging
import NIOCore
import Synchronization
import SwiftProtobuf

/// The server side of the tunnel protocol (`proto/hopgate/tunnel/v1/tunnel.proto`) as a gRPC
/// service: register it with any `GRPCServer` — a port of its own (``GRPCTunnelListener``) or
/// the public HTTPS port shared with web traffic.
package final class GRPCTunnelService: Hopgate_Tunnel_V1_Tunnel.SimpleServiceProtocol {
    private let acceptor: any TunnelAcceptor
    private let logger: Logger
    private let sessions = Mutex<[String: GRPCTunnelSession]>([:])
    /// How long a client has to say hello after opening the control stream.
    let handshakeTimeout: Duration
    /// Idle exchange streams the server asks each client to keep open.
    let exchangePoolSize: Int

    package init(acceptor: any TunnelAcceptor, logger: Logger, handshakeTimeout: Duration = .seconds(10), exchangePoolSize: Int = 16) {
        self.acceptor = acceptor
        self.logger = logger
        self.handshakeTimeout = handshakeTimeout
        self.exchangePoolSize = exchangePoolSize
    }

    /// Closes every open tunnel (on shutdown): control streams end, exchanges fail.
    package func closeAllTunnels() {
        for session in sessions.withLock({ Array($0.values) }) {
            session.markClosed(reason: "the server is shutting down")
            session.control.finish()
        }
    }

    // MARK: Control

    package func control(
        request: RPCAsyncSequence<Hopgate_Tunnel_V1_ControlFromClient, any Error>,
        response: RPCWriter<Hopgate_Tunnel_V1_ControlFromServer>,
        context: ServerContext
    ) async throws {
        let messages = OneTaskIterator(request.makeAsyncIterator())
        let hello = try await readHello(messages)
        let welcome: TunnelWelcome
        do { welcome = try await acceptor.admit(hello, peer: context.remotePeer) } catch {
            throw RPCError(refusal: error)
        }
        var token = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in token.indices { token[index] = generator.next() }
        let (outgoing, control) = AsyncStream.makeStream(of: Hopgate_Tunnel_V1_ControlFromServer.self)
        let session = GRPCTunnelSession(id: welcome.tunnelID, token: token, control: control)
        sessions.withLock { $0[welcome.tunnelID.value.uuidString] = session }

        var message = Hopgate_Tunnel_V1_ControlFromServer()
        message.welcome = Hopgate_Tunnel_V1_Welcome.with {
            $0.tunnelID = welcome.tunnelID.value.uuidString
            $0.domain = welcome.domain.value
            $0.heartbeatIntervalMs = UInt32(clamping: welcome.heartbeatInterval.milliseconds)
            $0.serverVersion = welcome.serverVersion
            $0.exchangeToken = Data(token)
            $0.exchangePoolSize = UInt32(exchangePoolSize)
        }
        let reason: TunnelCloseReason
        do {
            try await response.write(message)
            await acceptor.tunnelOpened(session)
            reason = try await serve(session, welcome: welcome, messages: messages, outgoing: outgoing, response: response)
        } catch {
            session.markClosed(reason: "the tunnel ended")
            sessions.withLock { _ = $0.removeValue(forKey: welcome.tunnelID.value.uuidString) }
            let reason = (error as? TunnelEnded)?.reason ?? .transportClosed
            await acceptor.tunnelClosed(welcome.tunnelID, reason: reason)
            if error is TunnelEnded { return }
            throw error
        }
        session.markClosed(reason: "the tunnel ended")
        sessions.withLock { _ = $0.removeValue(forKey: welcome.tunnelID.value.uuidString) }
        await acceptor.tunnelClosed(welcome.tunnelID, reason: reason)
    }

    /// Why a tunnel's control stream ended in a way the server chose.
    private struct TunnelEnded: Error { let reason: TunnelCloseReason }

    private func readHello(_ messages: OneTaskIterator<RPCAsyncSequence<Hopgate_Tunnel_V1_ControlFromClient, any Error>.AsyncIterator>) async throws -> TunnelHello {
        let timeout = handshakeTimeout
        let first = try await withThrowingTaskGroup(of: Hopgate_Tunnel_V1_ControlFromClient?.self) { group in
            group.addTask { try await messages.next() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw RPCError(code: .deadlineExceeded, message: "no hello within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard case .hello(let hello)? = first?.kind else {
            throw RPCError(code: .invalidArgument, message: "the first control message must be a hello")
        }
        return TunnelHello(
            domain: hello.domain, clientAPIKey: hello.clientApiKey, clientName: hello.clientName,
            clientVersion: hello.clientVersion,
            services: hello.services.map { TunnelServiceAdvertisement(name: $0.name, pathPrefix: $0.pathPrefix) })
    }

    /// Runs an admitted tunnel: reads heartbeats, sends heartbeats and drain, detects a silent peer.
    private func serve(
        _ session: GRPCTunnelSession, welcome: TunnelWelcome,
        messages: OneTaskIterator<RPCAsyncSequence<Hopgate_Tunnel_V1_ControlFromClient, any Error>.AsyncIterator>,
        outgoing: AsyncStream<Hopgate_Tunnel_V1_ControlFromServer>,
        response: RPCWriter<Hopgate_Tunnel_V1_ControlFromServer>
    ) async throws -> TunnelCloseReason {
        let acceptor = self.acceptor
        let interval = welcome.heartbeatInterval
        let lastHeard = LastHeard()
        return try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
            group.addTask {  // the client's messages
                while let message = try await messages.next() {
                    lastHeard.touch()
                    await acceptor.tunnelHeard(session.id)
                    switch message.kind {
                    case .drainComplete?: return .drained
                    case .leave?: await acceptor.tunnelWantsToLeave(session.id)
                    default: break
                    }
                }
                return session.phase == .draining ? .drained : .transportClosed
            }
            group.addTask {  // the one writer of the control stream
                for await message in outgoing { try await response.write(message) }
                throw TunnelEnded(reason: .transportClosed)  // close() finished the stream
            }
            group.addTask {  // heartbeats and liveness
                var sequence: UInt64 = 0
                while true {
                    try await Task.sleep(for: interval)
                    if lastHeard.silence > interval * 3 {
                        throw TunnelEnded(reason: .heartbeatTimeout)
                    }
                    sequence += 1
                    var message = Hopgate_Tunnel_V1_ControlFromServer()
                    message.heartbeat = Hopgate_Tunnel_V1_Heartbeat.with { $0.sequence = sequence }
                    session.control.yield(message)
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let reason = result { return reason }
            }
            return .transportClosed
        }
    }

    // MARK: Exchange

    package func exchange(
        request: RPCAsyncSequence<Hopgate_Tunnel_V1_ExchangeFromClient, any Error>,
        response: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromServer>,
        context: ServerContext
    ) async throws {
        let messages = OneTaskIterator(request.makeAsyncIterator())
        guard case .attach(let attach)? = try await messages.next()?.kind else {
            throw RPCError(code: .invalidArgument, message: "the first exchange message must be an attach")
        }
        guard let session = sessions.withLock({ $0[attach.tunnelID] }),
              tokensMatch(Array(attach.exchangeToken), session.token)
        else { throw RPCError(code: .permissionDenied, message: "unknown tunnel or wrong exchange token") }

        let assignment = try await session.park(writer: response)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {  // the client's response parts, with back-pressure
                let inbound = assignment.inbound
                do {
                    while let message = try await messages.next() {
                        switch message.kind {
                        case .head(let head):
                            await inbound.send(.head(try ProtoConversions.responseHead(head)))
                        case .body(let chunk):
                            await inbound.send(.body(ByteBuffer(bytes: chunk.data)))
                        case .end(let end):
                            await inbound.send(.end(end.trailers.isEmpty ? nil : try ProtoConversions.fields(end.trailers)))
                            inbound.finish()
                            return true
                        case .failure(let failure):
                            inbound.fail(TunnelExchangeError(.upstreamFailed, failure.message))
                            return true
                        case .attach, nil:
                            inbound.fail(TunnelExchangeError(.protocolViolation, "unexpected message in an exchange"))
                            return true
                        }
                    }
                    inbound.fail(TunnelExchangeError(.tunnelFailed, "the client ended the exchange without an end"))
                } catch let error as TunnelExchangeError {
                    inbound.fail(error)
                } catch {
                    inbound.fail(TunnelExchangeError(.tunnelFailed, "the exchange stream failed: \(error)"))
                }
                return true
            }
            group.addTask {  // the public side's outcome
                for await outcome in assignment.finished {
                    if case .failure = outcome { throw RPCError(code: .cancelled, message: "the public request ended") }
                }
                return false
            }
            defer { group.cancelAll() }
            while let pumpDone = try await group.next() {
                if !pumpDone { return }
            }
        }
    }
}

extension RPCError {
    /// The gRPC status for a refused hello.
    init(refusal: TunnelRefusal) {
        let code: RPCError.Code
        switch refusal.code {
        case .unauthenticated: code = .unauthenticated
        case .permissionDenied: code = .permissionDenied
        case .invalidHello: code = .invalidArgument
        case .tooManyTunnels: code = .resourceExhausted
        case .unavailable: code = .unavailable
        }
        self.init(code: code, message: refusal.reason)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Compares two tokens in time that depends only on their lengths.
func tokensMatch(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

/// When a peer was last heard from, shared by a tunnel's reader and its liveness check.
final class LastHeard: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    func touch() { instant.withLock { $0 = .now } }
    /// How long the peer has been silent.
    var silence: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
