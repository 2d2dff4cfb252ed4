import Crypto

/// The SHA-256 digest of a ``ClientAPIKey``: what stores keep instead of the key.
///
/// Keys carry 384 bits of entropy, so a plain (unsalted, fast) digest cannot be reversed by
/// guessing; a slow password hash would only slow every tunnel handshake down.
public struct ClientAPIKeyHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    init(digest: SHA256.Digest) { self.bytes = Array(digest) }

    /// Restores a hash read from storage as 64 lowercase hexadecimal characters.
    public init(hex: String) throws(ClientAPIKeyHashError) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { throw ClientAPIKeyHashError() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else {
                throw ClientAPIKeyHashError()
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }

    /// The digest as 64 lowercase hexadecimal characters, the stored form.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `key` hashes to this digest, compared in constant time.
    public func matches(_ key: ClientAPIKey) -> Bool {
        ConstantTime.equal(bytes, key.hash.bytes)
    }

    public var description: String { "sha256:\(hex.prefix(8))…" }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// A stored key hash that is not 64 lowercase hexadecimal characters: the store is damaged.
public struct ClientAPIKeyHashError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String { "a stored client API key hash is not 64 lowercase hexadecimal characters" }
}
