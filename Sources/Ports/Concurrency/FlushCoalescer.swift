public import NIOCore

/// Defers a flush until the event loop has run the tasks already queued, so that what is written
/// in quick succession — a response's head, body and end, each handed over from its task as a
/// separate event-loop task; the messages of several exchanges on one tunnel connection — leaves
/// in one flush: one TLS write and one system call instead of one each.
///
/// It also copies the small writes of a flush together into one buffer, so that TLS seals them
/// in one record. Surprising but measured: swift-nio-ssl seals every buffer written to it as
/// records of its own, and the handlers above write many small ones — swift-nio-http2 writes
/// each DATA frame as its 9-byte header and its payload, the HTTP/1 encoder a response's head
/// and its body — so a small request cost the edge four `SSL_write`s and four records (two on
/// the tunnel, two to the public client), and the client two, each record with its own seal,
/// header and tag, and on the other side its own open. A write larger than
/// ``smallWriteBytes`` passes as it is (copying it would cost more than a record), and a merged
/// buffer stops at one record's plaintext (``mergedBytesLimit``). On public HTTP/2 connections a
/// stream's reset keeps a record of its own (`keepingHTTP2ResetsApart`).
///
/// Sits right after TLS (or first, on plain HTTP). Nothing waits longer than the current round
/// of the event loop (no timer: grpc-swift's own flush coalescing, which waits up to 100 µs for
/// more, is turned off on the tunnel's connections); a close flushes first.
public final class FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    /// The largest write copied together with its neighbours.
    public static let smallWriteBytes = 4096
    /// The most bytes merged into one buffer: a TLS record's largest plaintext.
    public static let mergedBytesLimit = 16384

    private var flushPending = false
    /// Small writes not passed on yet, in order: kept as they are while there is one, merged
    /// into a buffer of their own once a second one comes.
    private var merged: ByteBuffer?
    private var mergedPromises: [EventLoopPromise<Void>] = []

    private let resetsApart: Bool

    /// - Parameters:
    ///   - keepingHTTP2ResetsApart: on a public HTTP/2 connection, an `RST_STREAM` frame goes out
    ///     in a record of its own, after the record with what came before it: curl drops a
    ///     response's head that arrives in one record with its stream's reset (a response cut
    ///     after its head would show as status 0, not 200 with an incomplete body).
    public init(keepingHTTP2ResetsApart: Bool = false) {
        self.resetsApart = keepingHTTP2ResetsApart
    }

    /// Whether `buffer` is exactly one HTTP/2 `RST_STREAM` frame (swift-nio-http2 writes each
    /// frame other than DATA as one buffer). A payload that only looks like one is merely not
    /// merged.
    private static func isHTTP2Reset(_ buffer: ByteBuffer) -> Bool {
        buffer.readableBytes == 13 && buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self) == 0x3
            && buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map { $0 >> 8 } == 4
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(let buffer) = unwrapOutboundIn(data), buffer.readableBytes <= Self.smallWriteBytes,
              !(resetsApart && Self.isHTTP2Reset(buffer))
        else {
            passMerged(context: context)
            context.write(data, promise: promise)
            return
        }
        if merged != nil, merged!.readableBytes + buffer.readableBytes > Self.mergedBytesLimit {
            passMerged(context: context)
        }
        if merged == nil {
            merged = buffer
        } else {
            // Copy-on-write: a first buffer still shared with its writer (swift-nio-http2 keeps
            // and reuses its own) is copied before this appends, never written into.
            merged!.writeImmutableBuffer(buffer)
        }
        if let promise { mergedPromises.append(promise) }
    }

    public func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushNow(context: context)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)
    }

    private func flushNow(context: ChannelHandlerContext) {
        passMerged(context: context)
        guard flushPending else { return }
        flushPending = false
        context.flush()
    }

    /// Passes the small writes held so far on as one write.
    private func passMerged(context: ChannelHandlerContext) {
        guard let buffer = merged else { return }
        merged = nil
        let promise: EventLoopPromise<Void>?
        switch mergedPromises.count {
        case 0: promise = nil
        case 1: promise = mergedPromises[0]
        default:
            let all = context.eventLoop.makePromise(of: Void.self)
            for each in mergedPromises { all.futureResult.cascade(to: each) }
            promise = all
        }
        mergedPromises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}
