import HTTPTypes
import HopGateDomain
import NIOCore

/// One try at sending a public request through one tunnel and streaming its answer back: the
/// response is pumped in the calling task and the request body in one child task, with
/// back-pressure both ways. The router makes another attempt on another tunnel only when
/// ``ExchangeRetryRule`` allows it, from what ``ExchangeProgress`` recorded.
///
/// Its functions run on the caller's executor (`nonisolated(nonsending)`; see
/// ``TunnelConnection/exchange(_:interruption:_:)``).
struct ExchangeAttempt: Sendable {
    let head: ExchangeRequestHead
    let upgrading: Bool
    /// The request body limit in bytes; 0 for none.
    let limit: Int
    let scheme: String
    let strictTransportSecurity: String?
    let body: HandedOffStream<ExchangeRequestPart>
    let response: PartWriter<ExchangeResponsePart>
    let progress: ExchangeProgress

    nonisolated(nonsending) func run(on connection: any TunnelConnection) async throws {
        try await connection.exchange(head, interruption: progress.interruption) { upstreamBody, upstreamResponse in
            if head.bodyless {
                // Its End is at hand: written in this task before the response is read (the
                // response cannot come first: the transport may hold the head for this End),
                // with no task for the request side.
                try await pumpRequestBody(to: upstreamBody)
                try await pumpResponse(upstreamResponse)
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { pump in
                pump.addTask { try await pumpRequestBody(to: upstreamBody) }
                // The response, in this task; its end ends the exchange, and what is left of
                // the request is not wanted.
                defer { pump.cancelAll() }
                try await pumpResponse(upstreamResponse)
            }
        }
    }

    /// Streams the response to the public client, checking its order, up to its end.
    private nonisolated(nonsending) func pumpResponse(_ upstreamResponse: PartStream<ExchangeResponsePart>) async throws {
        var meter = ByteMeter(direction: "out")
        defer { meter.flush() }
        var order = ExchangeResponseOrder(upgrading: upgrading)
        // What arrived together (a small response's head, body and end in one tunnel
        // message) is written to the public connection in one hand-off.
        var parts = upstreamResponse.makeAsyncIterator()
        var checked: [ExchangeResponsePart] = []
        while let batch = try await parts.nextBatch() {
            checked.removeAll(keepingCapacity: true)
            for part in batch {
                switch order.receive(part) {
                case .head(var head, let final):
                    progress.markResponseStarted()
                    if final {
                        PublicRequestRouter.addStrictTransportSecurity(strictTransportSecurity, to: &head, scheme: scheme)
                        progress.markHeadSent(head.status.code)
                    }
                    checked.append(.head(head))
                case .body:
                    if case .body(let buffer) = part { meter.add(buffer.readableBytes) }
                    checked.append(part)
                case .end:
                    checked.append(part)
                    try await answer(checked[...])
                    return
                case .violation(let violation):
                    // The client's fault, not the tunnel's (which would allow a retry).
                    try await answer(checked[...])
                    _ = progress.fail(violation)
                    throw violation
                }
            }
            try await answer(checked[...])
        }
        // The response stopped without its end: the tunnel's stream finished early, or the
        // exchange was stopped (deadline, body too large) or cancelled.
        if let failure = progress.failure { throw failure }
        try Task.checkCancellation()
    }

    /// Writes response parts to the public client; a failure there (the client gone) is not the
    /// tunnel's, so it is recorded as the exchange's end and never retried.
    private nonisolated(nonsending) func answer(_ parts: ArraySlice<ExchangeResponsePart>) async throws {
        do { try await response.write(contentsOf: parts) } catch {
            _ = progress.fail(error)
            throw error
        }
    }

    /// Sends the public request's body through the tunnel, with back-pressure, up to its end. A
    /// retry of a bodiless request sends the end an earlier attempt took again.
    private nonisolated(nonsending) func pumpRequestBody(to upstreamBody: PartWriter<ExchangeRequestPart>) async throws {
        if let end = progress.endToReplay {
            try await upstreamBody.write(.end(end))
            return
        }
        var received = 0
        var meter = ByteMeter(direction: "in")
        defer { meter.flush() }
        // Whether a retry could still send the request again (see ``ExchangeRetryRule``): tracked
        // until the first body bytes, after which it cannot.
        var tracking = true
        do {
            var parts = body.stream.makeAsyncIterator()
            while true {
                if tracking { progress.startedReadingBody() }
                guard let part = try await parts.next() else { return }
                if tracking {
                    progress.tookBodyPart(part)
                    if case .body = part { tracking = false }
                }
                if case .body(let buffer) = part {
                    meter.add(buffer.readableBytes)
                    received += buffer.readableBytes
                    if limit > 0 && received > limit { throw ProxyFailure.tooLarge }
                }
                try await upstreamBody.write(part)
                progress.requestBodyMoved()
                if case .end = part { return }
            }
        } catch {
            // The response side waits on the service, which may wait for this body: a failure
            // here (too large, the public peer gone) ends the whole exchange instead. (Not when
            // the response's end cancelled it.)
            if !Task.isCancelled, progress.fail(error) { progress.stopExchange() }
            throw error
        }
    }
}

/// Moves the public request's body stream into the one task that reads it.
///
/// `@unchecked Sendable` is safe because the router never reads `stream` itself: after wrapping
/// it, only the request pump of an ``ExchangeAttempt`` iterates it, and attempts run one after
/// another (the next starts after the previous one's task group has finished), so it is used
/// by one task at a time.
final class HandedOffStream<Part: Sendable>: @unchecked Sendable {
    let stream: PartStream<Part>
    init(_ stream: PartStream<Part>) { self.stream = stream }
}
