/// A free-text note an administrator attaches to a domain: any Unicode, at most 256 characters
/// (and 1 KiB of UTF-8), no NUL and no control characters other than tab and line breaks.
public struct Memo: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The longest memo, in characters (grapheme clusters).
    public static let maximumCharacters = 256
    /// The longest memo, in UTF-8 bytes.
    public static let maximumBytes = 1024

    public let text: String

    /// The empty memo.
    public static let empty = Memo(validated: "")

    public init(_ text: String) throws(MemoError) {
        if text.count > Self.maximumCharacters || text.utf8.count > Self.maximumBytes {
            throw MemoError(reason: "the memo is longer than \(Self.maximumCharacters) characters")
        }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !["\t", "\n", "\r"].contains($0) }) {
            throw MemoError(reason: "the memo contains a control character")
        }
        self.text = text
    }

    private init(validated: String) { self.text = validated }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do { try self.init(try container.decode(String.self)) } catch let error as MemoError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// Why a memo was refused.
public struct MemoError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
