/// The HTTP/2 settings of a tunnel connection.
///
/// gRPC's defaults do not fit a tunnel: the server transport grants a 64 KiB window — for the
/// whole connection as well as per stream, so every response coming through one tunnel shares
/// 64 KiB per round trip (≈ 1.3 MB/s at 50 ms) — while the client grants 8 MiB per stream, which
/// the benchmark showed growing the client's memory and slowing uploads down after the first.
///
/// grpc-swift's flush coalescing is off on both ends (`connection.flushCoalescing = nil`). It
/// holds every flush until 64 KiB are written or 100 µs have passed, so at low load each message
/// across the tunnel waited up to 100 µs (a request and its response, up to 200 µs), and each
/// wait armed a timer (2 `timerfd_settime` calls per request at one connection, on each side).
/// The tunnel's connections coalesce with `FlushCoalescer` instead: the flushes of one event-loop
/// round leave together, with no timer and no wait past the round.
enum TunnelHTTP2Settings {
    /// The flow-control window the edge grants per stream and per connection: how far a client
    /// may run ahead with a response the public side has not taken yet.
    ///
    /// Surprising: a larger window made small responses wait behind downloads. 100 small
    /// requests per second during four downloads read at 16 MB/s each (the paced head-of-line
    /// bench, release build, 12-03) waited p99 47 ms to 10.8 s with 1 MiB, 19–80 ms with 512 KiB
    /// and 9–61 ms with 256 KiB (idle: 5–9 ms): smaller is better, but the window is not the
    /// whole cause and the spread is wide (see the notes). 256 KiB slowed one download
    /// under load too much for the debug build's rolling-restart test (64 MiB at 16 MB/s no
    /// longer ended within the 30 s drain); 512 KiB allows 10 MB/s per exchange at a 50 ms
    /// round trip.
    static let edgeWindowBytes = 1 << 19

    /// The window the client grants per stream and per connection: how far the edge may run
    /// ahead with a request body. Bounds what one slow local service can make the client hold
    /// and allows 20 MB/s per upload at a 50 ms round trip.
    static let clientWindowBytes = 1 << 20
}
