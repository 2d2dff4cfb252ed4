import NIOCore

/// Sends a shared-port `h2` connection to the tunnel or to the web by its first request, so that
/// gRPC clients that offer only ALPN `h2` (grpcio, grpc-go, …) reach the tunnel while browsers'
/// `h2` connections stay web connections.
///
/// It sits after TLS, sees the connection's first bytes, and asks ``HTTP2FirstRequest`` what the
/// first request is: a gRPC call to the tunnel service, or anything else. Then `decide` builds
/// the chosen pipeline after it, and the bytes seen so far are replayed into that pipeline.
///
/// Surprising but necessary: some gRPC clients (grpc-go among them) send their first request
/// only after the server's SETTINGS frame, so the sniffer cannot just wait. It sends an empty
/// SETTINGS frame first (legal: every value at its default until the real one comes); the chosen
/// pipeline's HTTP/2 handler then sends its own. The client acknowledges both, and the chosen
/// handler expects only one acknowledgement: the sniffer drops the client's first SETTINGS ACK
/// from the inbound bytes, then removes itself.
final class SharedPortHTTP2Sniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Builds the pipeline for the verdict after this handler; fails to close the connection.
    typealias Decide = (HTTP2FirstRequest.Verdict, any Channel) -> EventLoopFuture<Void>

    /// The most the sniffer holds before deciding for the web (a first request head is far
    /// smaller; the web stack's own limits then apply).
    static let maximumSniffedBytes = 64 * 1024

    private enum State {
        case sniffing
        case deciding
        case filtering
        case done
    }

    private let servicePath: String
    private let deadline: TimeAmount
    private let decide: Decide
    private var state = State.sniffing
    private var seen = ByteBuffer()
    private var filter = SettingsAckFilter()
    private var timer: Scheduled<Void>?

    /// - Parameters:
    ///   - servicePath: the tunnel service's path prefix (`/package.Service/`).
    ///   - deadline: a connection whose first request head has not come by then is closed.
    init(servicePath: String, deadline: TimeAmount, decide: @escaping Decide) {
        self.servicePath = servicePath
        self.deadline = deadline
        self.decide = decide
    }

    func handlerAdded(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Self.emptySettingsFrame(context.channel.allocator)), promise: nil)
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .sniffing:
            seen.writeBuffer(&bytes)
            let verdict = HTTP2FirstRequest.classify(seen, servicePath: servicePath)
            if verdict != .needMore {
                choose(verdict, context: context)
            } else if seen.readableBytes > Self.maximumSniffedBytes {
                choose(.web, context: context)
            }
        case .deciding:
            seen.writeBuffer(&bytes)
        case .filtering:
            pass(&bytes, context: context)
        case .done:
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // While sniffing or deciding the reads are held: the pipeline behind sees them replayed.
        if state == .filtering || state == .done { context.fireChannelReadComplete() }
    }

    private func choose(_ verdict: HTTP2FirstRequest.Verdict, context: ChannelHandlerContext) {
        state = .deciding
        timer?.cancel()
        timer = nil
        decide(verdict, context.channel).assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                self.state = .filtering
                var held = self.seen
                self.seen = ByteBuffer()
                self.pass(&held, context: context)
                context.fireChannelReadComplete()
            case .failure:
                self.state = .done
                context.close(promise: nil)
            }
        }
    }

    /// Forwards `bytes` less the first SETTINGS ACK; steps out once that is dropped.
    private func pass(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        let forward = filter.process(&bytes, allocator: context.channel.allocator)
        if forward.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(forward)) }
        if filter.dropped {
            state = .done
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    /// A SETTINGS frame with no settings, on stream 0.
    static func emptySettingsFrame(_ allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: HTTP2FirstRequest.frameHeaderBytes)
        frame.writeBytes([0, 0, 0, HTTP2FirstRequest.FrameType.settings, 0, 0, 0, 0, 0])
        return frame
    }
}

/// Walks a client's inbound HTTP/2 bytes from the connection's start (preface, then frame by
/// frame, across reads) and removes the first SETTINGS ACK: the one for the sniffer's SETTINGS.
struct SettingsAckFilter {
    private var prefaceLeft = HTTP2FirstRequest.preface.count
    private var payloadLeft = 0
    private var header = ByteBuffer()
    /// The ACK was removed; everything after it passes untouched.
    private(set) var dropped = false

    /// The bytes of `input` to forward (all of it, less the ACK frame once seen).
    mutating func process(_ input: inout ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var output = allocator.buffer(capacity: input.readableBytes)
        while input.readableBytes > 0, !dropped {
            if prefaceLeft > 0 || payloadLeft > 0 {
                let count = min(prefaceLeft > 0 ? prefaceLeft : payloadLeft, input.readableBytes)
                var part = input.readSlice(length: count)!
                output.writeBuffer(&part)
                if prefaceLeft > 0 { prefaceLeft -= count } else { payloadLeft -= count }
                continue
            }
            var part = input.readSlice(length: min(HTTP2FirstRequest.frameHeaderBytes - header.readableBytes, input.readableBytes))!
            header.writeBuffer(&part)
            guard header.readableBytes == HTTP2FirstRequest.frameHeaderBytes else { break }
            var parsing = header
            let frame = HTTP2FirstRequest.frameHeader(&parsing)!
            if frame.type == HTTP2FirstRequest.FrameType.settings, frame.flags & HTTP2FirstRequest.Flags.ack != 0, frame.length == 0 {
                dropped = true
            } else {
                output.writeBuffer(&header)
                payloadLeft = frame.length
            }
            header.clear()
        }
        output.writeBuffer(&input)
        return output
    }
}
