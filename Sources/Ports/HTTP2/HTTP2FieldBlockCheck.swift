/// Checks an HTTP/2 request's header block, or its trailer block, field by field as the block is
/// read: the rules of RFC 9113 §8.2–8.3 that make a request malformed (a stream error of type
/// `PROTOCOL_ERROR`, §8.1.1), the same ones swift-nio-http2's own validation applies, so that the
/// edge can switch that validation off and check each field in the pass that converts it.
///
/// Surprising but measured: swift-nio-http2 validates every header block it receives and every
/// one it sends, at ≈ 1,500–2,000 instructions a field (a `Substring` per name, a `String` compare
/// per forbidden name): 27,000 of the 394,000 instructions an HTTP/2 request cost the edge. The
/// blocks the edge sends are built from `HTTPFields`, whose names and values are valid by
/// construction, and its response heads have lost their hop-by-hop fields
/// (``ExchangeResponseOrder``); only received blocks need this check, done here on the bytes.
///
/// Checked: names are non-empty lower-case tokens; pseudo-header fields come first, are known
/// (`:method`, `:scheme`, `:authority`, `:path`; `:protocol` is refused, as extended CONNECT is
/// not offered), appear once, and form a request (`:method`, `:scheme` and `:path`, or `CONNECT`
/// with `:authority` alone); `:path` is not empty; pseudo-header values have no space or control
/// byte; other values have no NUL, CR or LF; no connection-specific field (`connection`,
/// `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`), and `te` only as
/// `trailers`. A trailer block has no pseudo-header field at all.
public struct HTTP2FieldBlockCheck: Sendable {
    /// Which block is checked.
    public enum Block: Sendable {
        /// The request's header block (its first HEADERS frame).
        case request
        /// The trailer block (a later HEADERS frame, which ends the stream).
        case trailers
    }

    /// Why a block is malformed; the description names the field, never its value.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    private struct Pseudo: OptionSet {
        let rawValue: UInt8
        static let method = Pseudo(rawValue: 1)
        static let scheme = Pseudo(rawValue: 2)
        static let authority = Pseudo(rawValue: 4)
        static let path = Pseudo(rawValue: 8)
    }

    private let block: Block
    private var seen: Pseudo = []
    private var regularSeen = false
    private var connect = false

    public init(_ block: Block) { self.block = block }

    /// Checks the next field of the block.
    public mutating func check(name: String, value: String) -> Problem? {
        var name = name
        var value = value
        return name.withUTF8 { name in
            value.withUTF8 { value in check(name: name, value: value) }
        }
    }

    /// After the last field: whether the block as a whole forms a request.
    public func finish() -> Problem? {
        guard block == .request else { return nil }
        let mandatory: Pseudo = connect ? [.method, .authority] : [.method, .scheme, .path]
        let allowed: Pseudo = connect ? [.method, .authority] : [.method, .scheme, .authority, .path]
        guard seen.isSuperset(of: mandatory) else { return Problem(description: "a pseudo-header field the request needs is missing") }
        guard allowed.isSuperset(of: seen) else { return Problem(description: "a CONNECT request has :scheme or :path") }
        return nil
    }

    private mutating func check(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Problem? {
        guard let first = name.first else { return Problem(description: "an empty field name") }
        if first == UInt8(ascii: ":") {
            let base = UnsafeBufferPointer(rebasing: name[1...])
            guard !base.isEmpty, Self.isLowercaseToken(base) else { return problem("an invalid pseudo-header name", name) }
            guard block == .request else { return problem("a pseudo-header field in trailers", name) }
            guard !regularSeen else { return problem("a pseudo-header field after a regular one", name) }
            guard let pseudo = Self.pseudo(base) else { return problem("an unknown or unsupported pseudo-header field", name) }
            guard !seen.contains(pseudo) else { return problem("a repeated pseudo-header field", name) }
            seen.insert(pseudo)
            for byte in value where byte <= 0x20 || byte == 0x7F {
                return problem("a space or control byte in the value of", name)
            }
            if pseudo == .method { connect = Self.equals(value, "CONNECT") }
            if pseudo == .path, value.isEmpty { return problem("an empty value of", name) }
            return nil
        }
        guard Self.isLowercaseToken(name) else { return Problem(description: "an invalid field name (not a lower-case token)") }
        regularSeen = true
        switch name.count {
        case 2 where Self.equals(name, "te"):
            if block == .request, !Self.equals(value, "trailers") { return problem("a value other than trailers in", name) }
        case 7 where Self.equals(name, "upgrade"),
            10 where Self.equals(name, "connection") || Self.equals(name, "keep-alive"),
            16 where Self.equals(name, "proxy-connection"),
            17 where Self.equals(name, "transfer-encoding"):
            return problem("a connection-specific field", name)
        default:
            break
        }
        for byte in value where byte == 0 || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
            return problem("a NUL, CR or LF byte in the value of", name)
        }
        return nil
    }

    private func problem(_ what: String, _ name: UnsafeBufferPointer<UInt8>) -> Problem {
        Problem(description: "\(what) \(String(decoding: name, as: UTF8.self))")
    }

    /// RFC 9110 `tchar` without A–Z (RFC 9113 §8.2.1: names are lower case).
    private static func isLowercaseToken(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes {
            switch byte {
            case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x5E...0x7A, 0x7C, 0x7E: continue
            default: return false
            }
        }
        return true
    }

    private static func pseudo(_ base: UnsafeBufferPointer<UInt8>) -> Pseudo? {
        switch base.count {
        case 4 where equals(base, "path"): .path
        case 6 where equals(base, "method"): .method
        case 6 where equals(base, "scheme"): .scheme
        case 9 where equals(base, "authority"): .authority
        default: nil
        }
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount
            && bytes.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
