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
    /// How long a client has to end an exchange stream after a Cancel before the stream is reset.
    let cancelGrace: Duration

    package init(
        acceptor: any TunnelAcceptor, logger: Logger, handshakeTimeout: Duration = .seconds(10), exchangePoolSize: Int = 16,
        cancelGrace: Duration = .seconds(30)
    ) {
        self.acceptor = acceptor
        self.logger = logger
        self.handshakeTimeout = handshakeTimeout
        self.exchangePoolSize = exchangePoolSize
        self.cancelGrace = cancelGrace
    }

    /// Closes every open tunnel (on shutdown): control streams end, exchanges fail.
    package func closeAllTunnels() {
        for session in sessions.withLock({ Array($0.values) }) {
            session.markClosed(reason: "the server is shutting down")
            session.control.yield(.close(.transportClosed))
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
        let (hello, capabilities) = try await readHello(messages)
        let welcome: TunnelWelcome
        do { welcome = try await acceptor.admit(hello, peer: PeerAddress(grpcPeer: context.remotePeer)) } catch {
            throw RPCError(refusal: error)
        }
        var token = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in token.indices { token[index] = generator.next() }
        let (outgoing, control) = AsyncStream.makeStream(of: GRPCTunnelSession.ControlOutput.self)
        let session = GRPCTunnelSession(
            welcome: welcome, token: token, reusesExchangeStreams: capabilities.contains(TunnelCapabilities.exchangeReuse),
            endsRequestsInHead: capabilities.contains(TunnelCapabilities.requestEndInHead), control: control)
        sessions.withLock { $0[welcome.tunnelID.value.uuidString] = session }

        var message = Hopgate_Tunnel_V1_ControlFromServer()
        message.welcome = Hopgate_Tunnel_V1_Welcome.with {
            $0.tunnelID = welcome.tunnelID.value.uuidString
            $0.domain = welcome.domain.value
            $0.heartbeatIntervalMs = UInt32(clamping: welcome.heartbeatInterval.milliseconds)
            $0.serverVersion = welcome.serverVersion
            $0.exchangeToken = Data(token)
            $0.exchangePoolSize = UInt32(exchangePoolSize)
            $0.capabilities = capabilities
        }
        let reason: TunnelCloseReason
        do {
            try await response.write(message)
            await acceptor.tunnelOpened(session)
            reason = try await serve(session, welcome: welcome, messages: messages, outgoing: outgoing, response: response)
        } catch {
            session.markClosed(reason: "the tunnel ended")
            sessions.withLock { _ = $0.removeValue(forKey: welcome.tunnelID.value.uuidString) }
            await acceptor.tunnelClosed(welcome.tunnelID, reason: .transportClosed)
            throw error
        }
        session.markClosed(reason: "the tunnel ended")
        sessions.withLock { _ = $0.removeValue(forKey: welcome.tunnelID.value.uuidString) }
        await acceptor.tunnelClosed(welcome.tunnelID, reason: reason)
    }

    /// The client's hello, and the capabilities the server accepts from it.
    private func readHello(
        _ messages: OneTaskIterator<RPCAsyncSequence<Hopgate_Tunnel_V1_ControlFromClient, any Error>.AsyncIterator>
    ) async throws -> (TunnelHello, [String]) {
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
        let tunnelHello = TunnelHello(
            domain: hello.domain, clientAPIKey: hello.clientApiKey, clientName: hello.clientName,
            clientVersion: hello.clientVersion,
            services: hello.services.map { TunnelServiceAdvertisement(name: $0.name, pathPrefix: $0.pathPrefix, stripPrefix: $0.stripPrefix) })
        return (tunnelHello, TunnelCapabilities.accepted(from: hello.capabilities))
    }

    /// Runs an admitted tunnel until its lifecycle closes it: reads the client's messages, writes
    /// heartbeats and drain, and ticks the session's clock once per heartbeat interval (a silent
    /// client, an overdue drain).
    private func serve(
        _ session: GRPCTunnelSession, welcome: TunnelWelcome,
        messages: OneTaskIterator<RPCAsyncSequence<Hopgate_Tunnel_V1_ControlFromClient, any Error>.AsyncIterator>,
        outgoing: AsyncStream<GRPCTunnelSession.ControlOutput>,
        response: RPCWriter<Hopgate_Tunnel_V1_ControlFromServer>
    ) async throws -> TunnelCloseReason {
        let acceptor = self.acceptor
        let interval = welcome.heartbeatInterval
        return try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
            group.addTask {  // the client's messages
                while let message = try await messages.next() {
                    session.heard()
                    await acceptor.tunnelHeard(session.id)
                    // A DrainComplete is only heard: the drain ends when the server's own exchanges do.
                    if case .leave? = message.kind { await acceptor.tunnelWantsToLeave(session.id) }
                }
                return session.clientEndedControl()
            }
            group.addTask {  // the one writer of the control stream, and the close it is told of
                for await output in outgoing {
                    switch output {
                    case .send(let message): try await response.write(message)
                    case .close(let reason): return reason
                    case .placed(let placement): await acceptor.tunnelPlaced(session.id, on: placement)
                    }
                }
                return .transportClosed
            }
            group.addTask {  // heartbeats and the session's deadlines
                var sequence: UInt64 = 0
                while true {
                    try await Task.sleep(for: interval)
                    if let reason = session.tick() { return reason }
                    sequence += 1
                    var message = Hopgate_Tunnel_V1_ControlFromServer()
                    message.heartbeat = Hopgate_Tunnel_V1_Heartbeat.with { $0.sequence = sequence }
                    session.control.yield(.send(message))
                    // A tunnel that took no request for a whole interval gives back the idle
                    // streams it grew when it was busy.
                    session.retireIdleStreams(keeping: ExchangePoolSizing.defaultMinimumIdle)
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
              ConstantTime.equal(attach.exchangeToken, session.token)
        else { throw RPCError(code: .permissionDenied, message: "unknown tunnel or wrong exchange token") }
        // A tunnel that reuses its streams has them served by their channel handler
        // (``ExchangeStreamHandler``), which hands grpc-swift only the streams it does not take.
        guard !session.reusesExchangeStreams else {
            throw RPCError(code: .internalError, message: "an exchange-reuse stream reached the gRPC service without its channel handler")
        }
        session.streamAttached()

        let assignment = try await session.park(writer: response)
        let grace = cancelGrace
        // The stream ends in order (see the protocol notes in tunnel.proto): this handler returns,
        // and so sends the status, only after the client has ended its side — also when the
        // public side went away, which the client learns from a Cancel message, not a reset.
        try await withThrowingTaskGroup(of: ExchangeEvent.self) { group in
            group.addTask {  // the client's response parts, with back-pressure
                await Self.pumpResponse(messages, into: assignment.inbound)
                return .clientEnded
            }
            group.addTask {  // the public side's outcome
                guard let finished = assignment.finished else { return .publicDone }  // version 1 streams always have it
                for await outcome in finished {
                    if case .failure = outcome { return .publicFailed }
                }
                return .publicDone
            }
            defer { group.cancelAll() }
            var clientEnded = false
            var publicEnded = false
            while !(clientEnded && publicEnded), let event = try await group.next() {
                switch event {
                case .clientEnded:
                    clientEnded = true
                case .publicDone, .publicFailed:
                    publicEnded = true
                    guard !clientEnded else { break }
                    // Nobody reads the response any more: the pump discards what still comes, and
                    // the client is told to stop (harmless when its end is merely still on the way).
                    assignment.inbound.finish()
                    // The grace runs from now, not from when the Cancel is written: a client that
                    // never reads has a full stream window, and the write would wait for ever,
                    // holding the stream and the request body buffered for it.
                    group.addTask {
                        try await Task.sleep(for: grace)
                        return .graceOver
                    }
                    group.addTask {
                        var cancel = Hopgate_Tunnel_V1_ExchangeFromServer()
                        cancel.cancel = Hopgate_Tunnel_V1_Cancel.with { $0.reason = "the public request ended" }
                        try? await response.write(cancel)
                        return .cancelSent
                    }
                case .cancelSent:
                    break
                case .graceOver:
                    throw RPCError(code: .cancelled, message: "the client did not end its exchange stream within \(grace) of the exchange's end")
                }
            }
        }
    }

    /// The tunnel an Exchange stream's Attach names, when its channel handler may serve the
    /// stream (``ExchangeStreamHandler``): a tunnel that reuses its streams, with the right
    /// token. Nil sends the stream to ``exchange(request:response:context:)``, which serves a
    /// version 1 stream or refuses a wrong one.
    func reusableSession(attachedBy attach: Hopgate_Tunnel_V1_Attach) -> GRPCTunnelSession? {
        guard let session = sessions.withLock({ $0[attach.tunnelID] }), session.reusesExchangeStreams,
              ConstantTime.equal(attach.exchangeToken, session.token)
        else { return nil }
        return session
    }

    /// What ends one side of an exchange.
    private enum ExchangeEvent: Sendable { case clientEnded, publicDone, publicFailed, cancelSent, graceOver }

    /// Feeds the client's response parts to the public side until the client ends its stream.
    /// Whatever follows the response's end (a late Failure after a Cancel) is read and dropped, so
    /// the client can always finish its side; a broken stream fails the response.
    private static func pumpResponse(
        _ messages: OneTaskIterator<RPCAsyncSequence<Hopgate_Tunnel_V1_ExchangeFromClient, any Error>.AsyncIterator>,
        into inbound: ResponsePartBatches
    ) async {
        var ended = false
        do {
            while let message = try await messages.next() {
                if ended { continue }
                switch try ExchangeMessageDecoding.message(message) {
                case .part(let part):
                    if case .end = part {
                        inbound.sendLast([part])
                        ended = true
                    } else {
                        await inbound.send([part])
                    }
                case .parts(let parts):
                    if case .end? = parts.last {
                        inbound.sendLast(parts)
                        ended = true
                    } else {
                        await inbound.send(parts)
                    }
                case .failure(let reason):
                    inbound.fail(TunnelExchangeError(.upstreamFailed, reason))
                    ended = true
                case .unexpected:
                    inbound.fail(TunnelExchangeError(.protocolViolation, "unexpected message in an exchange"))
                    ended = true
                }
            }
            if !ended { inbound.fail(TunnelExchangeError(.tunnelFailed, "the client ended the exchange without an end")) }
        } catch let error as TunnelExchangeError {
            inbound.fail(error)
        } catch {
            inbound.fail(TunnelExchangeError(.tunnelFailed, "the exchange stream failed: \(error)"))
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
