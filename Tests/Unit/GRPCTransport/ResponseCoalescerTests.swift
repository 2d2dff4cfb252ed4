import Foundation
import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import Testing

@Suite("Response coalescing (coalesced-parts)")
struct ResponseCoalescerTests {
    private func response(_ status: HTTPResponse.Status, length: Int?) -> HTTPResponse {
        var response = HTTPResponse(status: status)
        if let length { response.headerFields[.contentLength] = "\(length)" }
        return response
    }

    @Test func aSmallResponseWithItsLengthGoesAsOneMessage() {
        var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
        #expect(coalescer.messages(for: .head(response(.ok, length: 5))).isEmpty)
        #expect(coalescer.messages(for: .body(ByteBuffer(string: "he"))).isEmpty)
        #expect(coalescer.messages(for: .body(ByteBuffer(string: "llo"))).isEmpty)
        let outbound = coalescer.messages(for: .end(nil))
        let messages = outbound.map(\.protobuf)
        #expect(messages.count == 1)
        #expect(messages.first?.head.status == 200)
        #expect(messages.first?.head.body == Data("hello".utf8))
        #expect(messages.first?.head.hasEnd == true)
        #expect(outbound.first?.endsResponse == true)
        #expect(coalescer.flush().isEmpty)
    }

    @Test func anUnboundedOrLargeResponseStreamsPartByPart() {
        for head in [response(.ok, length: nil), response(.ok, length: ResponseCoalescer.maximumBodyBytes + 1), response(.switchingProtocols, length: 0)] {
            var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
            let messages = coalescer.messages(for: .head(head)).map(\.protobuf)
            #expect(messages.count == 1 && messages.first?.head.hasEnd == false, "\(head)")
            #expect(coalescer.messages(for: .body(ByteBuffer(string: "x"))).first?.protobuf.body.data == Data("x".utf8))
        }
    }

    @Test func twoLengthFieldsEvenEqualLeaveTheBodyUnbounded() {
        var head = response(.ok, length: 5)
        head.headerFields.append(HTTPField(name: .contentLength, value: "5"))
        var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
        let messages = coalescer.messages(for: .head(head)).map(\.protobuf)
        #expect(messages.count == 1 && messages.first?.head.hasEnd == false)
        var unparsable = ResponseCoalescer(enabled: true, requestMethod: .get)
        var odd = HTTPResponse(status: .ok)
        odd.headerFields[.contentLength] = "5x"
        #expect(unparsable.messages(for: .head(odd)).count == 1)
    }

    @Test func aBodyLargerThanAnnouncedIsStreamedOnceItOutgrowsTheBound() {
        var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
        _ = coalescer.messages(for: .head(response(.ok, length: 10)))
        _ = coalescer.messages(for: .body(ByteBuffer(repeating: 1, count: 10)))
        let messages = coalescer.messages(for: .body(ByteBuffer(repeating: 2, count: ResponseCoalescer.maximumBodyBytes))).map(\.protobuf)
        #expect(messages.count == 2)
        #expect(messages.first?.head.body.count == 10 && messages.first?.head.hasEnd == false)
        #expect(messages.last?.body.data.count == ResponseCoalescer.maximumBodyBytes)
        #expect(coalescer.messages(for: .end(nil)).first?.endsResponse == true)
    }

    @Test func headAnswers204And304AreBoundedWhateverTheirLength() {
        var head = ResponseCoalescer(enabled: true, requestMethod: .head)
        #expect(head.messages(for: .head(response(.ok, length: 1 << 30))).isEmpty)
        #expect(head.messages(for: .end(nil)).first?.protobuf.head.hasEnd == true)
        for status in [HTTPResponse.Status.noContent, .notModified] {
            var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
            #expect(coalescer.messages(for: .head(response(status, length: nil))).isEmpty)
        }
    }

    @Test func trailersRideInTheCoalescedEnd() {
        var coalescer = ResponseCoalescer(enabled: true, requestMethod: .post)
        _ = coalescer.messages(for: .head(response(.ok, length: 0)))
        let end = coalescer.messages(for: .end([HTTPField.Name("grpc-status")!: "0"]))
        #expect(end.first?.protobuf.head.end.trailers.first?.name == "grpc-status")
    }

    @Test func whatIsHeldWhenTheHandlerStopsIsFlushedAsAHeadWithoutAnEnd() {
        var coalescer = ResponseCoalescer(enabled: true, requestMethod: .get)
        _ = coalescer.messages(for: .head(response(.ok, length: 5)))
        _ = coalescer.messages(for: .body(ByteBuffer(string: "he")))
        let held = coalescer.flush().map(\.protobuf)
        #expect(held.count == 1 && held.first?.head.body == Data("he".utf8) && held.first?.head.hasEnd == false)
    }

    @Test func withoutTheCapabilityEveryPartIsItsOwnMessage() {
        var coalescer = ResponseCoalescer(enabled: false, requestMethod: .get)
        #expect(coalescer.messages(for: .head(response(.ok, length: 5))).count == 1)
        #expect(coalescer.messages(for: .body(ByteBuffer(string: "hello"))).count == 1)
        #expect(coalescer.messages(for: .end(nil)).first?.protobuf.end != nil)
    }
}
