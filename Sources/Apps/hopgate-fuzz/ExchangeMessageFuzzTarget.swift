import HTTPTypes
import HopGateEdge
import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The property fuzzed: whatever bytes a tunnel client sends as an exchange message, the server
/// either refuses them with a message naming the problem, or decodes a response part that the
/// edge's HTTP/1.1 handlers (the same `PublicHTTP1Handler`, which encodes with `HTTP1ResponseEncoder`) write as
/// a well-formed head or trailer section: no bare CR or LF, no NUL, one line per field, each
/// `token: value`. A client must not be able to split a response or smuggle a header.
///
/// A violated property traps (`preconditionFailure`), which libFuzzer reports as a crash and
/// saves the input for `hopgate-fuzz FILE` to replay.
enum ExchangeMessageFuzzTarget {
    /// Checks one input; returns what it decoded to (for `hopgate-fuzz FILE`).
    @discardableResult
    static func check(_ bytes: [UInt8]) -> String {
        let message: ExchangeMessageDecoding.Message
        do {
            message = try ExchangeMessageDecoding.message(serialized: ByteBuffer(bytes: bytes))
        } catch {
            precondition(!error.message.isEmpty, "a refusal without a message")
            return "refused: \(error.message)"
        }
        switch message {
        case .part(.head(let response)):
            checkSection(written: [.head(response)], startsWithStatusLine: true, fieldCount: response.headerFields.count)
            return "head \(response.status.code) with \(response.headerFields.count) fields: \(response.headerFields)"
        case .part(.end(let trailers?)):
            var head = HTTPResponse(status: .ok)
            head.headerFields[.transferEncoding] = "chunked"
            checkSection(
                written: [.head(head), .end(trailers)], startsWithStatusLine: false, fieldCount: trailers.count, afterHead: true)
            return "end with \(trailers.count) trailers: \(trailers)"
        case .part(let part):
            return "\(part)"
        case .parts(let parts):
            guard case .head(let response)? = parts.first else { preconditionFailure("coalesced parts without a head first") }
            checkSection(written: [.head(response)], startsWithStatusLine: true, fieldCount: response.headerFields.count)
            return "head \(response.status.code) with \(parts.count - 1) coalesced parts"
        case .failure(let reason):
            return "failure: \(reason)"
        case .unexpected:
            return "unexpected in an exchange"
        }
    }

    /// Writes `parts` through the edge's HTTP/1.1 encoders and checks the last header section.
    private static func checkSection(
        written parts: [HTTPResponsePart], startsWithStatusLine: Bool, fieldCount: Int, afterHead: Bool = false
    ) {
        let channel = EmbeddedChannel()
        // Already closed when a `101` could not switch this bare pipeline to bytes: `finish()`
        // would throw before running the loop, and the handlers, never removed, would leak.
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        var output = ByteBuffer()
        do {
            try channel.pipeline.syncOperations.addHandler(PublicHTTP1Handler(secure: true))
            for part in parts { try channel.writeOutbound(part) }
            while var chunk = try channel.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&chunk) }
        } catch {
            return  // the encoder refusing a part is safe: nothing is written for it
        }
        var bytes = Array(output.readableBytesView)
        if afterHead {
            // Skip the fixed head; the trailers follow the last chunk ("0\r\n").
            guard let head = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
                preconditionFailure("the head written before trailers has no end")
            }
            bytes = Array(bytes[head.upperBound...])
            precondition(bytes.starts(with: Array("0\r\n".utf8)), "trailers not after a last chunk")
            bytes = Array(bytes.dropFirst(3))
        }
        precondition(!bytes.contains(0), "NUL written into a header section")
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\r") {
                precondition(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"), "bare CR in a header section")
                lines.append(line)
                line = []
                index += 2
                continue
            }
            precondition(byte != UInt8(ascii: "\n"), "bare LF in a header section")
            line.append(byte)
            index += 1
        }
        precondition(line.isEmpty && lines.last == [], "a header section that does not end with an empty line")
        lines.removeLast()
        precondition(!lines.contains([]), "an empty line inside a header section (response splitting)")
        var fieldLines = lines[...]
        if startsWithStatusLine {
            guard let status = fieldLines.popFirst() else { preconditionFailure("no status line") }
            precondition(status.starts(with: Array("HTTP/1.1 ".utf8)) && status.count >= 12, "malformed status line")
        }
        // The encoder may add one framing field (transfer-encoding) to a head.
        precondition(
            fieldLines.count == fieldCount || (startsWithStatusLine && fieldLines.count == fieldCount + 1),
            "\(fieldCount) fields written as \(fieldLines.count) lines")
        for field in fieldLines {
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { preconditionFailure("a field line without a colon") }
            // HTTPField.Name accepts exactly RFC 9110 tokens (non-ASCII bytes decode to U+FFFD, refused).
            precondition(HTTPField.Name(String(decoding: field[..<colon], as: UTF8.self)) != nil, "a field name that is not a token")
        }
    }
}
