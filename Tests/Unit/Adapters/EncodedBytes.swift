import NIOCore
import NIOEmbedded
import Testing

/// What an encoder puts on the wire for `parts`, written one by one (each write's promise must
/// succeed) and flushed: the encoder tests compare ours with NIO's this way.
func encodedBytes<Part: Sendable>(_ parts: [Part], through encoder: some ChannelHandler) throws -> [UInt8] {
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    try channel.pipeline.syncOperations.addHandler(encoder)
    var promises: [EventLoopFuture<Void>] = []
    for part in parts {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(part, promise: promise)
        promises.append(promise.futureResult)
    }
    channel.flush()
    for future in promises { try future.wait() }
    var bytes: [UInt8] = []
    while let data = try channel.readOutbound(as: IOData.self) {
        guard case .byteBuffer(let buffer) = data else { Issue.record("a file region"); continue }
        bytes += buffer.readableBytesView
    }
    return bytes
}
