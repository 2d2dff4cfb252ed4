import HTTPTypes
import AsyncAlgorithms
import GRPCCore
import HopGatePorts
import SwiftProtobuf

/// The client's side of one exchange once its request head has come: runs the handler and sends
/// its response on the Exchange stream, and stops it when the server sends Cancel.
///
/// Surprising but necessary: the handler does not write to the gRPC stream itself. Cancelling a
/// task that is suspended in a gRPC write abandons the stream's writer without ending the stream,
/// so the server would wait for an end that never comes and finally reset the stream — the very
/// reset the protocol avoids. The handler hands each part to a forwarder task that is never
/// cancelled; only the handler is, and the forwarder then sends Failure and the stream ends.
///
/// Nothing is sent after the response's End — not even a Failure of a handler that failed
/// after it — so that a reusable stream carries nothing between exchanges.
enum ClientExchangeServing {
    /// - Returns: whether the response went out whole (its End was written) and nothing failed,
    ///   so that a reusable stream may carry the next exchange.
    @discardableResult
    static func serve(
        _ head: ExchangeRequestHead, with handler: any ExchangeHandler,
        requestBody: OneSlotChannel<ExchangeRequestPart>,
        cancel: ServerCancelSignal,
        writer: RPCWriter<Hopgate_Tunnel_V1_ExchangeFromClient>,
        coalescing: Bool = false
    ) async -> Bool {
        // Batches: what the handler hands over at once (a small response's head, body and end)
        // crosses to the forwarder in one rendezvous and goes out in one write.
        let parts = AsyncThrowingChannel<ArraySlice<ExchangeResponsePart>, any Error>()
        let forwardingFailed = OnceFlag()  // the forwarder could not write; the handler's writes then fail
        let endWritten = OnceFlag()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {  // the forwarder: the only writer of the stream
                var coalescer = ResponseCoalescer(enabled: coalescing, requestMethod: head.request.method)
                do {
                    var messages: [Hopgate_Tunnel_V1_ExchangeFromClient] = []
                    for try await batch in parts {
                        guard !endWritten.isSet else { continue }
                        messages.removeAll(keepingCapacity: true)
                        var ends = false
                        for part in batch where !ends {
                            for message in coalescer.messages(for: part) where !ends {
                                messages.append(message)
                                ends = ResponseCoalescer.endsResponse(message)
                            }
                        }
                        switch messages.count {
                        case 0: break  // a small response's head, held for its body
                        case 1: try await writer.write(messages[0])
                        default: try await writer.write(contentsOf: messages)
                        }
                        if ends { endWritten.set() }
                    }
                    for message in coalescer.flush() { try await writer.write(message) }
                } catch {
                    forwardingFailed.set()
                }
            }
            let handOver: @Sendable (ArraySlice<ExchangeResponsePart>) async throws -> Void = { batch in
                guard !forwardingFailed.isSet else { throw TunnelExchangeError(.tunnelFailed, "the exchange stream closed") }
                await parts.send(batch)
                try Task.checkCancellation()
            }
            let response = PartWriter<ExchangeResponsePart>({ part in try await handOver([part]) }, batches: handOver)
            let failure = await runHandler(head, with: handler, requestBody: requestBody, until: cancel, response: response)
            parts.finish()
            await group.waitForAll()
            if let failure, !forwardingFailed.isSet, !endWritten.isSet {
                var message = Hopgate_Tunnel_V1_ExchangeFromClient()
                message.failure = Hopgate_Tunnel_V1_Failure.with { $0.message = failure }
                try? await writer.write(message)
            }
            return failure == nil && endWritten.isSet && !forwardingFailed.isSet
        }
    }

    /// Runs the handler until it finishes; a Cancel from the server cancels it. Returns nil when
    /// the handler sent its response, or the message of the Failure to send.
    ///
    /// The handler runs in a task of its own so that the stream's reader can cancel it (through
    /// `cancel`) without cancelling the stream's task; this task awaits it and passes its own
    /// cancellation on.
    private static func runHandler(
        _ head: ExchangeRequestHead, with handler: any ExchangeHandler,
        requestBody: OneSlotChannel<ExchangeRequestPart>,
        until cancel: ServerCancelSignal,
        response: PartWriter<ExchangeResponsePart>
    ) async -> String? {
        let handling = Task {
            try await handler.handle(head, requestBody: PartStream(requestBody), response: response)
        }
        cancel.onFire { handling.cancel() }
        defer { cancel.clear() }
        let outcome = await withTaskCancellationHandler {
            await handling.result
        } onCancel: {
            handling.cancel()
        }
        if cancel.isFired { return "the exchange was cancelled by the server" }
        if case .failure(let error) = outcome { return "\(error)" }
        return nil
    }
}
