public import HTTPTypes

/// The order rules of a tunnelled response, as a state machine without I/O that the edge feeds
/// with each part the tunnel client sends: informational heads (`1xx`), one final head, body
/// parts, one end. A `101 Switching Protocols` is final, and only for a request that asked to
/// upgrade. Nothing may follow the end.
///
/// A client that breaks the rules gets a 502 (or its response cut off) instead of malformed
/// output to the public client. Heads are returned ready to forward: hop-by-hop fields removed,
/// and for a switch the `Upgrade` field kept with `Connection: upgrade`.
///
/// Used by the edge's exchange path whatever runs it (today a task per direction; the handlers
/// of the event-loop-native path next).
public struct ExchangeResponseOrder: Sendable {
    /// What to do with the part.
    public enum Action: Sendable, Hashable {
        /// Forward this head. `final` is true for the final head (from here the status is known).
        case head(HTTPResponse, final: Bool)
        /// Forward the body part as it is.
        case body
        /// Forward the end: the response is complete.
        case end
        /// The part breaks the rules: fail the exchange.
        case violation(Violation)
    }

    /// How a response broke the rules.
    public enum Violation: Error, Sendable, Hashable, CustomStringConvertible {
        case secondFinalHead
        case bodyBeforeHead
        case partAfterEnd
        /// A `101` for a request that asked for no upgrade, or without `Upgrade`.
        case unexpectedSwitch

        public var description: String {
            switch self {
            case .secondFinalHead: "a second response head"
            case .bodyBeforeHead: "response body before its head"
            case .partAfterEnd: "a response part after its end"
            case .unexpectedSwitch: "101 Switching Protocols for a request that asked for no upgrade, or without Upgrade"
            }
        }
    }

    private enum State: Sendable { case awaitingHead, body, ended }

    private let upgrading: Bool
    private var state = State.awaitingHead
    /// The final status once the final head was accepted.
    public private(set) var status: Int?

    /// - Parameter upgrading: the request asked to switch protocols (`Upgrade` + `Connection: upgrade`).
    public init(upgrading: Bool) { self.upgrading = upgrading }

    /// Applies the next part the client sent.
    public mutating func receive(_ part: ExchangeResponsePart) -> Action {
        switch (state, part) {
        case (.ended, _):
            return .violation(.partAfterEnd)
        case (.awaitingHead, .body), (.awaitingHead, .end):
            return .violation(.bodyBeforeHead)
        case (.body, .head):
            return .violation(.secondFinalHead)
        case (.awaitingHead, .head(var head)) where head.status == .switchingProtocols:
            guard upgrading, let upgrade = head.headerFields[.upgrade] else { return .violation(.unexpectedSwitch) }
            head.headerFields = HopByHopFields.removing(from: head.headerFields)
            head.headerFields[.upgrade] = upgrade
            head.headerFields[.connection] = "upgrade"
            return final(head)
        case (.awaitingHead, .head(var head)):
            head.headerFields = HopByHopFields.removing(from: head.headerFields)
            return head.status.code >= 200 ? final(head) : .head(head, final: false)
        case (.body, .body):
            return .body
        case (.body, .end):
            state = .ended
            return .end
        }
    }

    private mutating func final(_ head: HTTPResponse) -> Action {
        state = .body
        status = head.status.code
        return .head(head, final: true)
    }
}
