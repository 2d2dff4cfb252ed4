/// HTTP/1.1 pipelining and graceful close on a public connection, as a value: which inbound
/// events reach the application now and which wait for the response in flight, when a held
/// `read()` may go down, and when the connection closes after a shutdown asked it to finish.
///
/// The rules are those of NIO's `HTTPServerPipelineHandler`, which the edge used before
/// ``PublicHTTP1Handler`` took its place (one handler fewer for every request part: callgrind
/// counted NIO's handler at ≈ 2,100 instructions a small request on the way in, 2,700 out):
/// - once a request has been read to its end and its response has not ended, what arrives next
///   (a pipelined request, a parse error) is held, and so is the application's `read()`; when
///   the response ends, the held events go up in order until the next request has been read
///   to its end, and a held `read()` goes down if nothing is held any more;
/// - asked to quiesce (a graceful shutdown), an idle connection closes at once; one with a
///   request in flight reads that request to its end, drops what follows, and closes once its
///   response has ended; response heads say `Connection: close` from then on.
///
/// The handler keeps the held events; this value says what to do with them.
struct HTTP1Pipelining {
    /// Where the request and the response in flight stand.
    enum Exchange: Equatable {
        case idle
        /// A request head went up; neither the request nor its response has ended.
        case requestAndResponseEndPending
        /// The response ended before the request did (an early answer to an upload).
        case requestEndPending
        /// The request ended; its response has not.
        case responseEndPending
    }

    /// Whether the connection is winding down.
    enum Lifecycle: Equatable {
        case accepting
        /// Quiescing: the request in flight is still being read.
        case closingAfterRequestEnd
        /// Quiescing: the last request was read; the connection closes after its response.
        case closingAfterResponseEnd
        /// Quiescing is done: the connection was closed.
        case closed
    }

    /// What a quiesce, a request's end or a response's end asks of the connection.
    enum Action: Equatable {
        case none
        /// Close the connection now.
        case close
        /// Close the connection once this response's end has been written.
        case closeAfterWrite
    }

    private(set) var exchange = Exchange.idle
    private(set) var lifecycle = Lifecycle.accepting
    /// The application asked for more while reads were held.
    private(set) var readPending = false

    /// Whether inbound events are dropped (the last request before a close was read).
    var dropsInput: Bool { lifecycle == .closingAfterResponseEnd || lifecycle == .closed }

    /// Whether an inbound event must wait: the request in flight was read to its end and its
    /// response has not ended. (Events also wait while earlier ones are held — the caller's
    /// queue knows that.)
    var holdsInput: Bool { exchange == .responseEndPending }

    /// Response heads must carry `Connection: close`.
    var closesAfterResponse: Bool { lifecycle != .accepting }

    /// A request head goes up to the application.
    mutating func requestHeadDelivered() {
        exchange = .requestAndResponseEndPending
    }

    /// A request's end goes up to the application.
    mutating func requestEndDelivered() -> Action {
        switch exchange {
        case .requestEndPending: exchange = .idle
        case .requestAndResponseEndPending: exchange = .responseEndPending
        case .idle, .responseEndPending: break
        }
        if lifecycle == .closingAfterRequestEnd { lifecycle = .closingAfterResponseEnd }
        if lifecycle == .closingAfterResponseEnd, exchange == .idle {
            lifecycle = .closed
            return .close
        }
        return .none
    }

    /// A malformed request goes up (it is answered, and the connection closes after the
    /// answer): it counts as a whole request, so that the answer may go out.
    mutating func parseErrorDelivered() {
        if exchange == .idle || exchange == .requestEndPending { exchange = .responseEndPending }
    }

    /// A response's end is written.
    mutating func responseEnded() -> Action {
        let action: Action
        switch lifecycle {
        case .closingAfterResponseEnd, .closingAfterRequestEnd where exchange == .responseEndPending:
            lifecycle = .closed
            action = .closeAfterWrite
        default:
            action = .none
        }
        switch exchange {
        case .responseEndPending: exchange = .idle
        case .requestAndResponseEndPending: exchange = .requestEndPending
        case .idle, .requestEndPending: break
        }
        return action
    }

    /// A graceful shutdown asks the connection to finish. Returns `.close` when it is idle.
    mutating func quiesce() -> Action {
        guard lifecycle == .accepting else { return .none }
        switch exchange {
        case .responseEndPending:
            lifecycle = .closingAfterResponseEnd
            return .none
        case .idle:
            lifecycle = .closed
            return .close
        case .requestEndPending, .requestAndResponseEndPending:
            lifecycle = .closingAfterRequestEnd
            return .none
        }
    }

    /// The application asks for more input. Returns whether the `read()` goes down now.
    mutating func readRequested() -> Bool {
        if dropsInput { return false }
        if holdsInput {
            readPending = true
            return false
        }
        return true
    }

    /// After a response ended and held events went up: whether a held `read()` goes down now.
    mutating func releasesHeldRead() -> Bool {
        guard readPending, !holdsInput, !dropsInput else { return false }
        readPending = false
        return true
    }

    /// The handler leaves the pipeline: whether a held `read()` must go down.
    mutating func takeHeldRead() -> Bool {
        defer { readPending = false }
        return readPending
    }
}
