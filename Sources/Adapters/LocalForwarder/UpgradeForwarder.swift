import HopGatePorts
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// Forwards an upgrade request (WebSocket and other `Upgrade`s) to a local service on a
/// connection of its own, and once the service answers `101 Switching Protocols`, relays raw
/// bytes both ways: the tunnel's request body parts to the service, its bytes back as response
/// body parts. Either side's end half-closes the other's direction. A service that declines the
/// upgrade gets its answer relayed like any response.
///
/// AsyncHTTPClient has no upgrade support, hence NIO directly.
enum UpgradeForwarder {
    static func forward(
        _ head: ExchangeRequestHead, to target: LocalTarget, connectTimeout: TimeAmount,
        requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>
    ) async throws {
        guard target.scheme == "http" else { throw UpgradeForwardingError.tlsTarget(target.description) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(HTTPRequestEncoder())
                    try operations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)))
                    try operations.addHandler(ClientUpgradeSwitch())
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(requestHead(head, target: target)))
            try await outbound.write(.end(nil))
            // The service's side runs in a child task; it says whether the protocol switched,
            // and only then does this task pump the public peer's bytes to the service.
            let (switchedSignal, signal) = AsyncStream.makeStream(of: Bool.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { signal.finish() }
                    var parts = inbound.makeAsyncIterator()
                    guard case .head(let answer)? = try await parts.next() else {
                        throw UpgradeForwardingError.noResponse(target.description)
                    }
                    let switched = answer.status == .switchingProtocols
                    try await response.write(.head(responseHead(answer, switched: switched)))
                    signal.yield(switched)
                    relay: while let part = try await parts.next() {
                        switch part {
                        case .head: continue
                        case .body(let bytes): try await response.write(.body(bytes))
                        case .end: if !switched { break relay }  // after a 101: the bytes go on
                        }
                    }
                    try await response.write(.end(nil))
                }
                var signals = switchedSignal.makeAsyncIterator()
                if await signals.next() == true {
                    for try await part in requestBody {
                        guard case .body(let bytes) = part else { break }
                        try await outbound.write(.body(.byteBuffer(bytes)))
                    }
                    outbound.finish()  // the public peer is done sending: half-close towards the service
                }
                try await group.waitForAll()
            }
        }
    }

    static func requestHead(_ head: ExchangeRequestHead, target: LocalTarget) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        for field in head.request.headerFields where !HopByHop.isHopByHop(field.name) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.replaceOrAdd(name: "Host", value: head.request.authority ?? "\(target.host):\(target.port)")
        headers.add(name: "Upgrade", value: head.request.headerFields[.upgrade] ?? "")
        headers.add(name: "Connection", value: "upgrade")
        return HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: head.request.method.rawValue),
            uri: head.request.path ?? "/", headers: headers)
    }

    static func responseHead(_ answer: HTTPResponseHead, switched: Bool) -> HTTPResponse {
        var fields = HTTPFields()
        for header in answer.headers {
            guard !HopByHop.isHopByHop(header.name), let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        if switched, let upgrade = answer.headers.first(name: "upgrade") {
            fields[.upgrade] = upgrade
            fields[.connection] = "upgrade"
        }
        return HTTPResponse(status: .init(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase), headerFields: fields)
    }
}

/// Why an upgrade could not be forwarded.
enum UpgradeForwardingError: Error, CustomStringConvertible {
    case tlsTarget(String)
    case noResponse(String)

    var description: String {
        switch self {
        case .tlsTarget(let target): "upgrades to an https local service (\(target)) are not supported yet"
        case .noResponse(let target): "\(target) closed the connection without answering the upgrade request"
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
                    try pipeline.handler(type: HTTPRequestEncoder.self) as any RemovableChannelHandler,
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
