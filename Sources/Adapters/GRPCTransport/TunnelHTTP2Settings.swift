/// The HTTP/2 settings of a tunnel connection, the same on both sides.
///
/// gRPC's defaults do not fit a tunnel: the server transport grants a 64 KiB window — for the
/// whole connection as well as per stream, so every response coming through one tunnel shares
/// 64 KiB per round trip (≈ 1.3 MB/s at 50 ms) — while the client grants 8 MiB per stream, which
/// the benchmark showed growing the client's memory and slowing uploads down after the first.
enum TunnelHTTP2Settings {
    /// The flow-control window each side grants per stream and per connection: how far a sender
    /// may run ahead of its reader. Bounds what one slow public client can make the server hold
    /// (one window per exchange) and allows 20 MB/s per exchange at a 50 ms round trip.
    static let windowBytes = 1 << 20
}
