public import HTTPTypes

/// When the router may send a failed request again, to another tunnel of its route: only when
/// the service cannot have acted on it, or acting twice does no harm. This is what makes a
/// client's restart invisible while another client serves the same route.
///
/// - Nothing was sent (``TunnelExchangeError/Code/tunnelUnavailable``, ``TunnelExchangeError/Code/noStreamAvailable``:
///   the tunnel was draining or closed when the exchange tried to start): any request whose
///   body bytes were not taken (a bodiless request's end, held to go out with its head, is
///   sent again).
/// - The tunnel broke while the exchange ran (``TunnelExchangeError/Code/tunnelFailed``)
///   before any response head came: only a GET, HEAD or OPTIONS request whose body the tunnel
///   has not taken (none of its body was read, or it had no body bytes at all and only its end
///   was read).
/// - Never after a response head, after the service's own failure (the client answered for
///   it), a protocol violation, the response deadline or the body limit.
public struct ExchangeRetryRule: Sendable {
    /// How much of the public request's body the failed attempt took from the public side.
    public enum BodyTaken: Sendable, Hashable {
        /// Nothing: the attempt never started reading it.
        case nothing
        /// Its end, with no body bytes before it (a bodiless request); the end can be sent again.
        case endOnly
        /// Body bytes, or the reading had started and may hold a part in flight.
        case some
    }

    /// Attempts per request at most, the first included.
    public static let maximumAttempts = 3

    /// Whether the request may go to another tunnel after `error`.
    /// - Parameters:
    ///   - responseStarted: a response head (final or informational) reached the public client.
    public static func allowsRetry(after error: any Error, method: HTTPRequest.Method, bodyTaken: BodyTaken, responseStarted: Bool) -> Bool {
        guard !responseStarted, let failure = error as? TunnelExchangeError else { return false }
        if nothingWasSent(failure) { return bodyTaken != .some }
        return failure.code == .tunnelFailed && isRepeatable(method) && bodyTaken != .some
    }

    /// Whether `error` says the exchange failed before anything of it reached the tunnel.
    public static func nothingWasSent(_ error: any Error) -> Bool {
        guard let failure = error as? TunnelExchangeError else { return false }
        return failure.code == .tunnelUnavailable || failure.code == .noStreamAvailable
    }

    /// GET, HEAD and OPTIONS: safe methods whose repetition a service does not notice.
    public static func isRepeatable(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head || method == .options
    }
}
