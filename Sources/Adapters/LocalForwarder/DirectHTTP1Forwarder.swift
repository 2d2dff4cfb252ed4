import HopGatePorts
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// Forwards the exchanges AsyncHTTPClient cannot carry, on a connection of their own with NIO:
///
/// - upgrades (WebSocket …): once the service answers `101 Switching Protocols`, raw bytes flow
///   both ways — the tunnel's request body parts to the service, its bytes back as response body
///   parts; either side's end half-closes the other's direction. A declined upgrade is relayed
///   like any response;
/// - requests with trailers or accepting them (`TE: trailers`, as gRPC clients send): the body
///   streams chunked, and trailers pass both ways.
enum DirectHTTP1Forwarder {
    /// Whether `request` needs this forwarder rather than the pooled one.
    static func isNeeded(for request: HTTPRequest) -> Bool {
        HopByHopFields.isUpgradeRequest(request.headerFields) || HopByHopFields.acceptsTrailers(request.headerFields)
    }

    nonisolated(nonsending) static func forward(
        _ head: ExchangeRequestHead, to target: LocalTarget, connectTimeout: TimeAmount,
        requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>
    ) async throws {
        guard target.scheme == "http" else { throw DirectForwardingError.tlsTarget(target.description) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(HTTP1RequestEncoder())
                    try operations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)))
                    try operations.addHandler(ClientUpgradeSwitch())
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        let upgrading = HopByHopFields.isUpgradeRequest(head.request.headerFields)
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(requestHead(head, target: target, upgrading: upgrading)))
            // The service's side runs in a child task; for an upgrade it says whether the protocol
            // switched, and only then does this task pump the public peer's bytes to the service.
            let (switchedSignal, signal) = AsyncStream.makeStream(of: Bool.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { signal.finish() }
                    var parts = inbound.makeAsyncIterator()
                    guard case .head(let answer)? = try await parts.next() else {
                        throw DirectForwardingError.noResponse(target.description)
                    }
                    let switched = upgrading && answer.status == .switchingProtocols
                    try await response.write(.head(responseHead(answer, switched: switched)))
                    signal.yield(switched)
                    var trailers: HTTPFields?
                    relay: while let part = try await parts.next() {
                        switch part {
                        case .head: continue
                        case .body(let bytes): try await response.write(.body(bytes))
                        case .end(let fields):
                            if switched { continue }  // after a 101: the bytes go on
                            trailers = fields.map(Self.fields(from:))
                            break relay
                        }
                    }
                    try await response.write(.end(trailers))
                }
                if upgrading {
                    try await outbound.write(.end(nil))
                    var signals = switchedSignal.makeAsyncIterator()
                    if await signals.next() == true {
                        for try await part in requestBody {
                            guard case .body(let bytes) = part else { break }
                            try await outbound.write(.body(.byteBuffer(bytes)))
                        }
                        outbound.finish()  // the public peer is done sending: half-close towards the service
                    }
                } else {
                    var ended = false
                    for try await part in requestBody {
                        switch part {
                        case .body(let bytes): try await outbound.write(.body(.byteBuffer(bytes)))
                        case .end(let trailers):
                            try await outbound.write(.end(trailers.map(Self.headers(from:))))
                            ended = true
                        }
                        if ended { break }
                    }
                    if !ended { try await outbound.write(.end(nil)) }
                }
                try await group.waitForAll()
            }
        }
    }

    static func fields(from headers: HTTPHeaders) -> HTTPFields {
        HTTPFields(presized: headers.compactMap { header in HTTPField.Name(header.name).map { HTTPField(name: $0, value: header.value) } })
    }

    static func headers(from fields: HTTPFields) -> HTTPHeaders {
        HTTPHeaders(fields.map { ($0.name.rawName, $0.value) })
    }

    static func requestHead(_ head: ExchangeRequestHead, target: LocalTarget, upgrading: Bool) -> HTTPRequestHead {
        // Gathered first and made `HTTPHeaders` once: `HTTPHeaders.add` scans each name for
        // non-ASCII bytes (≈ 400 instructions a field, callgrind); HTTPTypes' names are tokens.
        var fields: [(String, String)] = []
        fields.reserveCapacity(head.request.headerFields.count + 4)
        // First, as RFC 9112 §3.2 asks of a client; any `Host` field among the others is dropped.
        fields.append(("Host", head.request.authority ?? "\(target.host):\(target.port)"))
        for field in head.request.headerFields where !HopByHopFields.isHopByHop(field.name) && field.name.canonicalName != "host" {
            fields.append((field.name.rawName, field.value))
        }
        if upgrading {
            fields.append(("Upgrade", head.request.headerFields[.upgrade] ?? ""))
            fields.append(("Connection", "upgrade"))
        }
        if HopByHopFields.acceptsTrailers(head.request.headerFields) {
            fields.append(("TE", "trailers"))
        }
        let headers = HTTPHeaders(fields)
        return HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: head.request.method.rawValue),
            uri: head.request.path ?? "/", headers: headers)
    }

    static func responseHead(_ answer: HTTPResponseHead, switched: Bool) -> HTTPResponse {
        var response = HTTP1ResponseHead.response(from: answer)
        if switched, let upgrade = answer.headers.first(name: "upgrade") {
            response.headerFields[.upgrade] = upgrade
            response.headerFields[.connection] = "upgrade"
        }
        return response
    }
}

/// Why an exchange could not be forwarded directly.
enum DirectForwardingError: Error, CustomStringConvertible {
    case tlsTarget(String)
    case noResponse(String)

    var description: String {
        switch self {
        case .tlsTarget(let target): "upgrades and trailers to an https local service (\(target)) are not supported yet"
        case .noResponse(let target): "\(target) closed the connection without answering"
        }
    }
}

/// Watches the response; after a `101` head and its end, replaces the HTTP handlers with
/// ``ClientUpgradedBytes`` and steps out of the pipeline (the decoder, removed last, passes on
/// the bytes the service sent after its answer).
final class ClientUpgradeSwitch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart

    private var switching = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        context.fireChannelRead(data)
        switch part {
        case .head(let head) where head.status == .switchingProtocols:
            switching = true
        case .end where switching:
            let pipeline = context.pipeline.syncOperations
            do {
                try pipeline.addHandler(ClientUpgradedBytes(), position: .after(self))
                for handler in [
                    try pipeline.handler(type: HTTP1RequestEncoder.self) as any RemovableChannelHandler,
                    self,
                    try pipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self),
                ] {
                    pipeline.removeHandler(handler, promise: nil)
                }
            } catch {
                context.close(promise: nil)
            }
        default:
            break
        }
    }
}

/// After a protocol switch: the service's bytes in as `.body` parts, `.body` parts out as bytes.
final class ClientUpgradedBytes: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(.body(unwrapInboundIn(data))))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(.byteBuffer(let bytes)): context.write(wrapOutboundOut(bytes), promise: promise)
        case .body(.fileRegion), .head: promise?.fail(ChannelError.inappropriateOperationForState)
        case .end: promise?.succeed()
        }
    }
}
