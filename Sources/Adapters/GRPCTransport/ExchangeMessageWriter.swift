import GRPCCore

/// Where an exchange's outbound messages go: straight to its stream's channel handler (a
/// reusable stream: ``ExchangeStreamWriter``), or through grpc-swift's writer (a version 1
/// stream, served by its gRPC handler).
///
/// Its methods run on the caller's executor (`nonisolated(nonsending)`), and so do
/// ``ExchangeStreamWriter``'s: a write from the exchange's task switches no executor at its call
/// or return. Through grpc-swift's `RPCWriter` and the protocol witness behind it, each write
/// switched four times, and each switch looked the task's executor preference up under the
/// task's status lock (≈ 270 instructions a switch, callgrind).
enum ExchangeMessageWriter<Element: ExchangeWireMessage, Sink: ExchangeMessageSink>: Sendable {
    case direct(ExchangeStreamWriter<Element, Sink>)
    case grpc(RPCWriter<Element>)

    nonisolated(nonsending) func write(_ element: Element) async throws {
        switch self {
        case .direct(let writer): try await writer.write(element)
        case .grpc(let writer): try await writer.write(element)
        }
    }

    nonisolated(nonsending) func write(contentsOf elements: [Element]) async throws {
        switch self {
        case .direct(let writer): try await writer.write(contentsOf: elements)
        case .grpc(let writer): try await writer.write(contentsOf: elements)
        }
    }
}
