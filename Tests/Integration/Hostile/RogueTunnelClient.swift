import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HopGateGRPCTransport
import SwiftProtobuf
import Synchronization

/// A tunnel client that sends whatever a test tells it to, byte for byte: garbage, oversized or
/// out-of-order messages, forged attaches. Talks to the server's plaintext tunnel port.
struct RogueTunnelClient: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>

    static let control = Hopgate_Tunnel_V1_Tunnel.Method.Control.descriptor
    static let exchange = Hopgate_Tunnel_V1_Tunnel.Method.Exchange.descriptor

    static func with<R: Sendable>(port: Int, _ body: (RogueTunnelClient) async throws -> R) async throws -> R {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in try await body(RogueTunnelClient(client: client)) }
    }

    /// How a call ended: the server's status (nil: OK, or still open when the test gave up), and
    /// what it sent.
    struct Outcome: Sendable, CustomStringConvertible {
        var code: RPCError.Code?
        var message = ""
        var received: [[UInt8]] = []
        var stillOpen = false
        var description: String { stillOpen ? "still open" : "\(code.map { "\($0)" } ?? "ok"): \(message) (\(received.count) messages)" }
    }

    /// Opens a `method` stream, sends `messages` and keeps its side open: the server must be the
    /// one to end the call. Gives up after `patience`.
    func call(_ method: MethodDescriptor, sending messages: [[UInt8]], patience: Duration = .seconds(20)) async throws -> Outcome {
        try await exchange(method, first: messages, patience: patience) { _ in nil }
    }

    /// Like ``call(_:sending:patience:)``, and answers each message the server sends with what
    /// `reply` returns for it: raw messages to send, and whether to end our side afterwards.
    func exchange(
        _ method: MethodDescriptor, first: [[UInt8]], patience: Duration = .seconds(20),
        reply: @escaping @Sendable ([UInt8]) -> (messages: [[UInt8]], thenEnd: Bool)?
    ) async throws -> Outcome {
        let (replies, replySink) = AsyncStream.makeStream(of: (messages: [[UInt8]], thenEnd: Bool).self)
        let client = self.client
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(producer: { writer in
                        for message in first { try await writer.write(message) }
                        for await (messages, thenEnd) in replies {
                            for message in messages { try await writer.write(message) }
                            if thenEnd { return }
                        }
                    }),
                    descriptor: method, serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
                ) { response in
                    var outcome = Outcome()
                    do {
                        for try await message in response.messages {
                            outcome.received.append(message)
                            if let answer = reply(message) { replySink.yield(answer) }
                        }
                    } catch let error as RPCError {
                        outcome.code = error.code
                        outcome.message = error.message
                    }
                    replySink.finish()
                    return outcome
                }
            }
            group.addTask {
                try await Task.sleep(for: patience)
                return Outcome(stillOpen: true)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Opens a `method` stream, sends `messages`, and never reads what the server sends back (the
    /// stream's flow-control window fills and stays full). Returns when the server ends the call.
    func ignoring(_ method: MethodDescriptor, first messages: [[UInt8]]) async throws {
        try await client.bidirectionalStreaming(
            request: StreamingClientRequest(producer: { writer in
                for message in messages { try await writer.write(message) }
                try await Task.sleep(for: .seconds(3600))
            }),
            descriptor: method, serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
        ) { _ in
            try await Task.sleep(for: .seconds(3600))
        }
    }

    /// Runs `body` while a tunnel for `domain` is admitted: the control stream says hello and
    /// answers heartbeats. Passes the Welcome.
    func admitted<R: Sendable>(
        domain: String, key: String, capabilities: [String] = [], _ body: @Sendable (Hopgate_Tunnel_V1_Welcome) async throws -> R
    ) async throws -> R {
        let (welcomes, welcomeSink) = AsyncStream.makeStream(of: Hopgate_Tunnel_V1_Welcome.self)
        let hello = try Self.hello(domain: domain, key: key, capabilities: capabilities)
        let client = self.client
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(producer: { writer in
                        try await writer.write(hello)
                        var beat = Hopgate_Tunnel_V1_ControlFromClient()
                        beat.heartbeat = .init()
                        let bytes: [UInt8] = try beat.serializedBytes()
                        while true {
                            try await Task.sleep(for: .seconds(2))
                            try await writer.write(bytes)
                        }
                    }),
                    descriptor: Self.control, serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
                ) { response in
                    for try await bytes in response.messages {
                        let message = try Hopgate_Tunnel_V1_ControlFromServer(serializedBytes: bytes)
                        if case .welcome(let welcome)? = message.kind { welcomeSink.yield(welcome) }
                    }
                }
                welcomeSink.finish()
                return nil
            }
            defer { group.cancelAll() }
            var iterator = welcomes.makeAsyncIterator()
            guard let welcome = await iterator.next() else { throw RogueClientError("the hello for \(domain) was not welcomed") }
            return try await body(welcome)
        }
    }

    /// The capability that makes the server serve each Exchange stream in its channel handler
    /// (one exchange after another), rather than through grpc-swift as a version 1 stream.
    static let exchangeReuse = "exchange-reuse"

    static func hello(domain: String, key: String, capabilities: [String] = []) throws -> [UInt8] {
        var message = Hopgate_Tunnel_V1_ControlFromClient()
        message.hello = .with {
            $0.domain = domain; $0.clientApiKey = key; $0.clientName = "rogue"; $0.clientVersion = "0"
            $0.capabilities = capabilities
        }
        return try message.serializedBytes()
    }

    static func attach(tunnelID: String, token: Data) throws -> [UInt8] {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        message.attach = .with { $0.tunnelID = tunnelID; $0.exchangeToken = token }
        return try message.serializedBytes()
    }

    static func fromClient(_ kind: Hopgate_Tunnel_V1_ExchangeFromClient.OneOf_Kind) throws -> [UInt8] {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        message.kind = kind
        return try message.serializedBytes()
    }
}

/// Passes bytes through unchanged, in both directions.
struct RawBytes: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

struct RogueClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
