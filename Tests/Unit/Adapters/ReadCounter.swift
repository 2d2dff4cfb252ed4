import NIOCore

/// Counts the reads that reach the bottom of a test pipeline (the socket, in a real one).
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
