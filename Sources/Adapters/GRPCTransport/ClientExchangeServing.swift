import GRPCCore
import HTTPTypes
import HopGatePorts
import Synchronization

/// The client's side of one exchange once its request head has come: runs the handler in the
/// calling task, which writes the response straight to the Exchange stream (no task or channel
/// between the handler and the stream).
///
/// Surprising but necessary: this never writes a Failure. The server's Cancel cancels the task
/// that runs this, and a write from a cancelled task is dropped (`NIOAsyncWriter` drops the
/// element of a cancelled yield), so the Failure of a cancelled exchange could never go out.
/// The ``Outcome`` carries it instead, and the stream's request producer — never cancelled by a
/// Cancel — writes it and ends its side of the stream.
///
/// Nothing is sent after the response's End — not even a Failure of a handler that failed
/// after it — so that a reusable stream carries nothing between exchanges.
enum ClientExchangeServing {
    /// How an exchange ended for its stream.
    enum Outcome: Sendable {
        /// The response went out whole (its End was written) and nothing failed: a reusable
        /// stream may carry the next exchange.
        case clean
        /// Anything else; `failure` is the message of the Failure to send before the stream
        /// ends, or nil when none may be sent (the End went out, or the stream broke).
        case unclean(failure: String?)
    }

    nonisolated(nonsending) static func serve(
        _ head: ExchangeRequestHead, with handler: any ExchangeHandler,
        requestBody: PartStream<ExchangeRequestPart>,
        writer: ExchangeMessageWriter<ClientExchangeOutbound, ClientExchangeStreamHandler>,
        coalescing: Bool = false
    ) async -> Outcome {
        let sender = ExchangeResponseSender(writer: writer, coalescing: coalescing, requestMethod: head.request.method)
        let response = PartWriter<ExchangeResponsePart>(
            { part in try await sender.send(CollectionOfOne(part)) },
            batches: { parts in try await sender.send(parts) })
        var failure: String?
        do {
            try await handler.handle(head, requestBody: requestBody, response: response)
            try await sender.flush()
        } catch {
            failure = "\(error)"
        }
        if Task.isCancelled { failure = "the exchange was cancelled by the server" }
        let (endWritten, broken) = sender.outcome
        if failure == nil, endWritten, !broken { return .clean }
        return .unclean(failure: endWritten || broken ? nil : failure)
    }
}

/// Writes one exchange's response to its Exchange stream as the handler hands it over,
/// gathering a small response into one message with the `coalesced-parts` capability.
private final class ExchangeResponseSender: Sendable {
    private struct State {
        var coalescer: ResponseCoalescer
        /// The response's End was written: whatever comes after it is dropped.
        var endWritten = false
        /// A write failed for another reason than the task's cancellation: the stream is broken.
        var broken = false
    }

    private let writer: ExchangeMessageWriter<ClientExchangeOutbound, ClientExchangeStreamHandler>
    private let state: Mutex<State>

    init(writer: ExchangeMessageWriter<ClientExchangeOutbound, ClientExchangeStreamHandler>, coalescing: Bool, requestMethod: HTTPRequest.Method) {
        self.writer = writer
        self.state = Mutex(State(coalescer: ResponseCoalescer(enabled: coalescing, requestMethod: requestMethod)))
    }

    /// Whether the End was written, and whether the stream broke.
    var outcome: (endWritten: Bool, broken: Bool) { state.withLock { ($0.endWritten, $0.broken) } }

    nonisolated(nonsending) func send<Parts: Collection<ExchangeResponsePart>>(_ parts: Parts) async throws {
        let (messages, ends) = try state.withLock { state -> ([ClientExchangeOutbound], Bool) in
            if state.broken { throw TunnelExchangeError(.tunnelFailed, "the exchange stream closed") }
            if state.endWritten { return ([], false) }
            var messages: [ClientExchangeOutbound] = []
            var ends = false
            for part in parts where !ends {
                for message in state.coalescer.messages(for: part) where !ends {
                    messages.append(message)
                    ends = message.endsResponse
                }
            }
            return (messages, ends)
        }
        try await write(messages)
        if ends { state.withLock { $0.endWritten = true } }
    }

    /// Sends what the coalescer still holds (a head whose body never came).
    nonisolated(nonsending) func flush() async throws {
        let messages = state.withLock { state in state.endWritten ? [] : state.coalescer.flush() }
        try await write(messages)
    }

    private nonisolated(nonsending) func write(_ messages: [ClientExchangeOutbound]) async throws {
        do {
            switch messages.count {
            case 0: return  // a small response's head, held for its body
            case 1: try await writer.write(messages[0])
            default: try await writer.write(contentsOf: messages)
            }
        } catch {
            // A cancelled write only dropped its message; any other failure broke the stream.
            if !Task.isCancelled { state.withLock { $0.broken = true } }
            throw error
        }
    }
}
