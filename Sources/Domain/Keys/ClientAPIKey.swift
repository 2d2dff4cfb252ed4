import Crypto

/// The secret a tunnel client presents for its domain: 64 characters drawn from a CSPRNG over
/// the URL-safe alphabet `A-Z a-z 0-9 - _` (384 bits of entropy).
///
/// A key is shown once, at registration; only its ``hash`` is stored. `description` is the
/// masked form, so a key interpolated into a log line by mistake does not leak.
public struct ClientAPIKey: Sendable, Hashable, CustomStringConvertible {
    /// The number of characters in every key.
    public static let length = 64
    /// The characters a key is made of, in the order random bytes index them.
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The full secret. Never log it; use ``masked``.
    public let secret: String

    /// A fresh key from the system's cryptographically secure random source.
    public static func generate() -> ClientAPIKey {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// A key drawn from `generator` (tests pass a seeded one; production uses the system CSPRNG).
    public static func generate(using generator: inout some RandomNumberGenerator) -> ClientAPIKey {
        // 64 symbols: the low six bits of each random byte index the alphabet without bias.
        let characters = (0..<length).map { _ in alphabet[Int(UInt8.random(in: 0...255, using: &generator) & 63)] }
        return ClientAPIKey(validated: String(decoding: characters, as: UTF8.self))
    }

    /// Parses a key presented by a client or an administrator.
    public init(parsing input: String) throws(ClientAPIKeyError) {
        let bytes = Array(input.utf8)
        guard bytes.count == Self.length else { throw ClientAPIKeyError(.wrongLength, length: bytes.count) }
        guard bytes.allSatisfy({ Self.alphabet.contains($0) }) else { throw ClientAPIKeyError(.invalidCharacter, length: bytes.count) }
        self.secret = input
    }

    private init(validated: String) { self.secret = validated }

    /// The SHA-256 digest that is stored instead of the key.
    public var hash: ClientAPIKeyHash { ClientAPIKeyHash(digest: SHA256.hash(data: Array(secret.utf8))) }

    /// The first and last four characters, e.g. `abcd…wxyz`: enough to tell keys apart in logs.
    public var masked: String { "\(secret.prefix(4))…\(secret.suffix(4))" }

    public var description: String { masked }

    public static func == (lhs: ClientAPIKey, rhs: ClientAPIKey) -> Bool {
        ConstantTime.equal(lhs.secret.utf8, rhs.secret.utf8)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(secret) }
}

/// Why a string is not a client API key. Never carries the key itself.
public struct ClientAPIKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the key.
    public enum Code: String, Sendable, Hashable {
        /// The key is not exactly 64 characters long.
        case wrongLength
        /// The key has a character outside `A-Z a-z 0-9 - _`.
        case invalidCharacter
    }
    public let code: Code
    let length: Int

    init(_ code: Code, length: Int) {
        self.code = code
        self.length = length
    }

    public var message: String {
        switch code {
        case .wrongLength: return "the client API key must be 64 characters long, not \(length)"
        case .invalidCharacter: return "the client API key may contain only A-Z, a-z, 0-9, '-' and '_'"
        }
    }
    public var description: String { message }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
