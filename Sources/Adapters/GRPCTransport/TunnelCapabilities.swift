/// The capabilities beyond version 1 of the tunnel protocol (`tunnel.proto`, "Capabilities"):
/// a client lists those it can do in its hello, the server answers with those it will use.
enum TunnelCapabilities {
    /// An Exchange stream carries one exchange after another instead of one.
    static let exchangeReuse = "exchange-reuse"
    /// A small response goes as one message: its head carries its body and end.
    static let coalescedParts = "coalesced-parts"
    /// A bodiless request goes as one message: its head carries its end.
    static let requestEndInHead = "request-end-in-head"

    /// Every capability this build of the server uses.
    static let supported: Set<String> = [exchangeReuse, coalescedParts, requestEndInHead]

    /// What a client of this build offers.
    static let offered = [exchangeReuse, coalescedParts, requestEndInHead]

    /// What the server answers to a client offering `offered`: the ones it supports too, in the
    /// client's order, without repeats.
    static func accepted(from offered: [String]) -> [String] {
        var seen = Set<String>()
        return offered.filter { supported.contains($0) && seen.insert($0).inserted }
    }
}
