import NIOHPACK
import NIOHTTP2

/// The HTTP/2 settings the public edge announces to browsers (RFC 9113 §6.5.2) and enforces.
///
/// NIO's rapid-reset and CONTINUATION-flood defences stay at their defaults; these are the
/// per-connection resource limits an operator may want to move.
public struct HTTP2ConnectionSettings: Sendable, Equatable {
    /// Streams one connection may have open at once; more are refused (`REFUSED_STREAM`).
    /// Default 100, as nginx's `http2_max_concurrent_streams`.
    public var maximumConcurrentStreams: Int
    /// The flow-control window granted to each request body: how far a client may upload ahead
    /// of the tunnel. Default 64 KiB (HTTP/2's own default; nginx pre-reads 64 KiB too), so an
    /// idle connection with 100 open uploads holds at most 6.4 MiB.
    public var initialWindowBytes: Int
    /// The largest header list a request may carry (uncompressed, as RFC 9113 counts it); a larger
    /// one is a connection error. Default 64 KiB, the HTTP/1.1 header limit.
    public var maximumHeaderListBytes: Int

    public init(maximumConcurrentStreams: Int = 100, initialWindowBytes: Int = 65_535, maximumHeaderListBytes: Int = 64 * 1024) {
        self.maximumConcurrentStreams = maximumConcurrentStreams
        self.initialWindowBytes = initialWindowBytes
        self.maximumHeaderListBytes = maximumHeaderListBytes
    }

    /// The NIO handler configuration that announces and enforces these settings.
    ///
    /// Header blocks are not validated by NIO: each stream's ``PublicHTTP2StreamCodec`` checks
    /// the blocks it receives while converting them, and the blocks it sends are valid by
    /// construction (``HTTP2FieldBlockCheck`` says why and what it cost).
    var handlerConfiguration: NIOHTTP2Handler.Configuration {
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.headerBlockValidation = .disabled
        configuration.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maximumConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: initialWindowBytes),
            HTTP2Setting(parameter: .maxHeaderListSize, value: maximumHeaderListBytes),
        ]
        configuration.connection.targetWindowSize = max(initialWindowBytes, 65_535)
        configuration.stream.targetWindowSize = initialWindowBytes
        return configuration
    }
}
