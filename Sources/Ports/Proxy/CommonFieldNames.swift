public import HTTPTypes

/// The field names that nearly every request and response carries, each made once in the
/// spellings seen on the wire, so that a head's common fields get their `HTTPField.Name` without
/// a new String, a token check and a lower-casing each (about 1 % of each side's CPU per small
/// request went to making the same dozen names again).
///
/// A name is found only when its bytes are exactly one of the spellings here: the name keeps the
/// spelling it arrived with (`rawName`), as `HTTPField.Name(_:)` would. Anything else, including
/// a known name in an unusual case, is made the usual way by the caller.
public enum CommonFieldNames {
    /// The names, in their usual spelling; each is also found lower-cased (HTTP/2 and HTTP/3 send
    /// names lower-cased).
    static let spellings = [
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
        "Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Length",
        "Content-Range", "Content-Type", "Cookie", "Date", "ETag", "Expires", "Forwarded",
        "If-Modified-Since", "If-None-Match", "Keep-Alive", "Last-Modified", "Location", "Origin",
        "Pragma", "Range", "Referer", "Server", "Set-Cookie", "Strict-Transport-Security", "TE",
        "Transfer-Encoding", "Upgrade", "Vary", "Via", "X-Content-Type-Options",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "X-Request-Id",
    ]

    /// One spelling as plain values, so that looking it up retains nothing: its length, where
    /// its bytes are in ``Table/words`` (eight to a word), and its name.
    struct Key {
        let length: Int
        let wordStart: Int
        let name: Int
    }

    /// Every spelling's key, by bucket (``bucket(of:)``), and the names they stand for.
    ///
    /// Held in memory that is never freed (the table lives as long as the process) rather than
    /// in arrays: reading an array held in a global retains and releases it, and those were most
    /// of a lookup's cost.
    struct Table {
        /// Sorted by bucket.
        let keys: UnsafeBufferPointer<Key>
        /// For each bucket, where its keys start in `keys` (one more entry than buckets).
        let starts: UnsafeBufferPointer<Int>
        /// Every spelling's bytes as words (``word(of:at:)``), back to back.
        let words: UnsafeBufferPointer<UInt64>
        let names: UnsafeBufferPointer<HTTPField.Name>
    }

    /// How many buckets spellings are spread over: by length (below 32) and the last byte's low
    /// four bits, so that a bucket holds one to three spellings (a length alone held up to ten).
    static let bucketCount = 32 * 16

    /// Safe to share: made once, before any lookup (a static's initializer runs once, guarded),
    /// and never written after.
    nonisolated(unsafe) static let table: Table = {
        // Every spelling is shorter than 32 bytes: each has a bucket.
        func bucketOf(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { bucket(of: $0)! } }
        let forms = spellings.flatMap { Set([$0, $0.lowercased()]).sorted() }.map { Array($0.utf8) }.sorted { bucketOf($0) < bucketOf($1) }
        var keys: [Key] = []
        var words: [UInt64] = []
        for (index, bytes) in forms.enumerated() {
            keys.append(Key(length: bytes.count, wordStart: words.count, name: index))
            bytes.withUnsafeBytes { memory in
                for offset in stride(from: 0, to: memory.count, by: 8) { words.append(word(of: memory, at: offset)) }
            }
        }
        let buckets = forms.map(bucketOf)
        let starts = (0...bucketCount).map { bucket in buckets.firstIndex { $0 >= bucket } ?? buckets.count }
        let names = forms.map { HTTPField.Name(String(decoding: $0, as: UTF8.self))! }
        func forever<Element>(_ elements: [Element]) -> UnsafeBufferPointer<Element> {
            let memory = UnsafeMutableBufferPointer<Element>.allocate(capacity: elements.count)
            _ = memory.initialize(from: elements)
            return UnsafeBufferPointer(memory)
        }
        return Table(keys: forever(keys), starts: forever(starts), words: forever(words), names: forever(names))
    }()

    /// The bucket of a spelling of `bytes`; nil for none (empty, or 32 bytes and longer).
    @inline(__always)
    static func bucket(of bytes: UnsafeRawBufferPointer) -> Int? {
        guard let last = bytes.last, bytes.count < 32 else { return nil }
        return bytes.count << 4 | Int(last & 0x0F)
    }

    /// The eight bytes of `bytes` from `offset` (fewer, zero-padded, at its end) as one word.
    @inline(__always)
    static func word(of bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        let remaining = bytes.count - offset
        if remaining >= 8 { return bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        if bytes.count >= 8 {
            // The last eight bytes, without the ones before `offset`.
            return bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self) >> (8 * UInt64(8 - remaining))
        }
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
        return word
    }

    /// The common name spelled exactly `bytes`, or nil.
    ///
    /// Measured with callgrind: ≈ 345 instructions a lookup when the table held each spelling's
    /// bytes and name in arrays of structs, scanned by length (every entry looked at was copied,
    /// with retains and releases, and compared byte by byte); now a bucket of one to three plain
    /// keys, compared eight bytes at a time.
    public static func name(spelled bytes: UnsafeRawBufferPointer) -> HTTPField.Name? {
        guard let bucket = bucket(of: bytes) else { return nil }
        let table = self.table
        let length = bytes.count
        candidates: for index in table.starts[bucket]..<table.starts[bucket + 1] {
            let key = table.keys[index]
            guard key.length == length else { continue }
            var wordIndex = key.wordStart
            for offset in stride(from: 0, to: length, by: 8) {
                guard table.words[wordIndex] == word(of: bytes, at: offset) else { continue candidates }
                wordIndex += 1
            }
            return table.names[key.name]
        }
        return nil
    }

    /// The common name spelled exactly `spelling`, or nil.
    public static func name(spelled spelling: String) -> HTTPField.Name? {
        var spelling = spelling
        return spelling.withUTF8 { name(spelled: UnsafeRawBufferPointer($0)) }
    }
}
