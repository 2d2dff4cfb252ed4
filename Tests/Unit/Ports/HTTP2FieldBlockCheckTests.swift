import HopGatePorts
import Testing

/// The HTTP/2 request and trailer block rules of RFC 9113 §8.2–8.3, as swift-nio-http2's own
/// validation applies them: every well-formed block passes, and each malformed one is refused
/// with a problem that names the field (never its value).
@Suite("HTTP/2 field block check")
struct HTTP2FieldBlockCheckTests {
    static let get: [(String, String)] = [
        (":method", "GET"), (":scheme", "https"), (":authority", "a.example.com"), (":path", "/x?y=1"),
        ("accept", "*/*"), ("user-agent", "curl/8"), ("te", "trailers"), ("x-odd_name!#$%&'*+.^`|~", "v\u{7F}é\tx"),
    ]

    func problem(_ block: [(String, String)], _ kind: HTTP2FieldBlockCheck.Block = .request) -> HTTP2FieldBlockCheck.Problem? {
        var check = HTTP2FieldBlockCheck(kind)
        for (name, value) in block {
            if let problem = check.check(name: name, value: value) { return problem }
        }
        return check.finish()
    }

    @Test func wellFormedBlocksPass() {
        #expect(problem(Self.get) == nil)
        #expect(problem([(":method", "CONNECT"), (":authority", "a.example.com:443")]) == nil)
        #expect(problem([(":method", "OPTIONS"), (":scheme", "https"), (":path", "*")]) == nil)
        #expect(problem([("x-checksum", "abc"), ("grpc-status", "0")], .trailers) == nil)
        #expect(problem([], .trailers) == nil)
    }

    @Test(arguments: [
        ([(":path", "/")], "missing"),
        ([(":method", "GET"), (":scheme", "https")], "missing"),
        ([(":method", "GET"), (":path", "/")], "missing"),
        ([(":method", "CONNECT"), (":authority", "a:1"), (":path", "/")], "CONNECT"),
        ([(":method", "CONNECT")], "missing"),
        ([(":method", "GET"), (":method", "GET"), (":scheme", "https"), (":path", "/")], "repeated pseudo-header field :method"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "")], "empty value of :path"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/a b")], "space or control byte in the value of :path"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/a\u{7F}")], "space or control byte in the value of :path"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), (":status", "200")], "unknown or unsupported pseudo-header field :status"),
        ([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/")], "unsupported pseudo-header field :protocol"),
        ([("x-first", "1"), (":method", "GET"), (":scheme", "https"), (":path", "/")], "pseudo-header field after a regular one :method"),
        ([(":", "x")], "invalid pseudo-header name"),
        ([(":Method", "GET")], "invalid pseudo-header name"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("Accept", "*/*")], "not a lower-case token"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x y", "1")], "not a lower-case token"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("", "1")], "empty field name"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("connection", "close")], "connection-specific field connection"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("keep-alive", "1")], "connection-specific field keep-alive"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("proxy-connection", "1")], "connection-specific field proxy-connection"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("transfer-encoding", "chunked")], "connection-specific field transfer-encoding"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("upgrade", "h2c")], "connection-specific field upgrade"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("te", "gzip")], "other than trailers in te"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x-a", "1\r\nx-b: 2")], "NUL, CR or LF byte in the value of x-a"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x-a", "1\n")], "NUL, CR or LF byte in the value of x-a"),
        ([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("x-a", "1\u{0}")], "NUL, CR or LF byte in the value of x-a"),
    ] as [([(String, String)], String)])
    func malformedRequestsAreRefused(_ block: [(String, String)], _ expected: String) throws {
        let refused = try #require(problem(block))
        #expect(refused.description.contains(expected), "\(refused)")
    }

    @Test func malformedTrailersAreRefused() throws {
        #expect(try #require(problem([(":status", "200")], .trailers)).description.contains("in trailers"))
        #expect(try #require(problem([(":path", "/")], .trailers)).description.contains("in trailers"))
        #expect(try #require(problem([("connection", "x")], .trailers)).description.contains("connection-specific"))
        #expect(try #require(problem([("X-Checksum", "1")], .trailers)).description.contains("lower-case token"))
        #expect(try #require(problem([("x-checksum", "1\r")], .trailers)).description.contains("NUL, CR or LF"))
        #expect(problem([("te", "gzip")], .trailers) == nil, "te is a request field; NIO checks its value in requests only")
    }

    @Test func problemsNeverCarryTheValue() throws {
        let refused = try #require(problem([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("authorization", "Bearer s3cret\r\n")]))
        #expect(!refused.description.contains("s3cret"))
        #expect(refused.description.contains("authorization"))
    }
}
