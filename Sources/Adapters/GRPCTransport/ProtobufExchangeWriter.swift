import GRPCCore

/// A version 1 Exchange stream's writer — grpc-swift's, which takes the generated messages — as
/// a writer of the outbound messages both stream versions share: each is converted (its
/// `protobuf`) and written. Version 2 streams write the outbound messages' own bytes
/// (``ExchangeStreamWriter``).
struct ProtobufExchangeWriter<Outbound: Sendable, Message: Sendable>: RPCWriterProtocol {
    let base: RPCWriter<Message>
    let convert: @Sendable (Outbound) -> Message

    func write(_ element: Outbound) async throws {
        try await base.write(convert(element))
    }

    func write(contentsOf elements: some Sequence<Outbound>) async throws {
        try await base.write(contentsOf: elements.map(convert))
    }
}
