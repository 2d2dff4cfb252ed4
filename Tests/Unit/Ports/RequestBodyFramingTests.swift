import HTTPTypes
import HopGatePorts
import Testing

/// Which request heads say, before any body is read, that there is no body.
@Suite("Request body framing")
struct RequestBodyFramingTests {
    func request(_ fields: HTTPFields) -> HTTPRequest {
        HTTPRequest(method: .post, scheme: "https", authority: "a.example.com", path: "/", headerFields: fields)
    }

    @Test func http1WithoutLengthOrChunkingHasNoBody() {
        #expect(RequestBodyFraming.hasNoBody(request([:]), http1: true))
        #expect(!RequestBodyFraming.hasNoBody(request([.transferEncoding: "chunked"]), http1: true))
        #expect(!RequestBodyFraming.hasNoBody(request([.contentLength: "12"]), http1: true))
    }

    @Test func http2NeedsAZeroLength() {
        // An HTTP/2 request may carry a body without either field.
        #expect(!RequestBodyFraming.hasNoBody(request([:]), http1: false))
        #expect(RequestBodyFraming.hasNoBody(request([.contentLength: "0"]), http1: false))
        #expect(RequestBodyFraming.hasNoBody(request([.contentLength: " 0 "]), http1: false))
        #expect(!RequestBodyFraming.hasNoBody(request([.contentLength: "1"]), http1: false))
    }
}
