/// Reads just enough of a TLS ClientHello — the first record, before any TLS library sees it —
/// to tell whether it is an ACME TLS-ALPN-01 validation (RFC 8737): ALPN `acme-tls/1` offered,
/// with a server name. Everything else, including anything malformed, is `.other` and goes to
/// the TLS library untouched, which then reports it properly.
enum ClientHelloPeek: Equatable {
    /// The record is not complete yet.
    case needMore
    /// A validation handshake for this server name.
    case acmeTLSALPN(serverName: String)
    case other

    static let acmeALPN = "acme-tls/1"
    /// A record larger than TLS allows (2^14 plus expansion) is not a ClientHello we look into.
    static let maximumRecord = 16_384 + 2_048

    static func inspect(_ bytes: some Collection<UInt8>) -> ClientHelloPeek {
        var reader = ByteReader(Array(bytes.prefix(5 + maximumRecord)))
        guard let contentType = reader.u8() else { return .needMore }
        guard contentType == 22 else { return .other }  // handshake
        guard reader.skip(2), let recordLength = reader.u16() else { return .needMore }
        guard recordLength <= maximumRecord else { return .other }
        guard var record = reader.take(recordLength) else { return .needMore }
        guard record.u8() == 1, let length = record.u24(), var hello = record.take(length) else { return .other }  // fragmented: not ours
        guard hello.skip(2 + 32),
              let sessionID = hello.u8(), hello.skip(sessionID),
              let suites = hello.u16(), hello.skip(suites),
              let compressions = hello.u8(), hello.skip(compressions),
              let extensionsLength = hello.u16(), var extensions = hello.take(extensionsLength) else { return .other }
        var serverName: String?
        var protocols: [String] = []
        while !extensions.isAtEnd {
            guard let type = extensions.u16(), let length = extensions.u16(), var body = extensions.take(length) else { return .other }
            switch type {
            case 0:  // server_name
                guard let listLength = body.u16(), var list = body.take(listLength) else { return .other }
                while !list.isAtEnd {
                    guard let nameType = list.u8(), let nameLength = list.u16(), let name = list.take(nameLength) else { return .other }
                    if nameType == 0 { serverName = String(decoding: name.remaining, as: UTF8.self) }
                }
            case 16:  // application_layer_protocol_negotiation
                guard let listLength = body.u16(), var list = body.take(listLength) else { return .other }
                while !list.isAtEnd {
                    guard let protocolLength = list.u8(), let name = list.take(protocolLength) else { return .other }
                    protocols.append(String(decoding: name.remaining, as: UTF8.self))
                }
            default:
                break
            }
        }
        guard protocols.contains(acmeALPN), let serverName, !serverName.isEmpty else { return .other }
        return .acmeTLSALPN(serverName: serverName)
    }
}

/// A bounds-checked cursor over bytes: every read returns nil instead of trapping past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private var index: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.index = start
        self.end = end
    }

    var isAtEnd: Bool { index >= end }
    var remaining: ArraySlice<UInt8> { bytes[index..<end] }

    mutating func u8() -> Int? {
        guard index < end else { return nil }
        defer { index += 1 }
        return Int(bytes[index])
    }

    mutating func u16() -> Int? {
        guard let high = u8(), let low = u8() else { return nil }
        return high << 8 | low
    }

    mutating func u24() -> Int? {
        guard let high = u8(), let low = u16() else { return nil }
        return high << 16 | low
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, end - index >= count else { return false }
        index += count
        return true
    }

    /// The next `count` bytes as a reader of their own.
    mutating func take(_ count: Int) -> ByteReader? {
        guard count >= 0, end - index >= count else { return nil }
        defer { index += count }
        return ByteReader(bytes, from: index, to: index + count)
    }
}
