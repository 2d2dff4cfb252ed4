import Foundation
import HTTPTypes

/// The header fields last read off one Exchange stream, by the bytes of their `Header` message,
/// so that a field seen again is not made again.
///
/// A reusable stream carries one exchange after another, and their heads repeat most of their
/// fields byte for byte (`Server`, `Content-Type`, `Accept-Ranges`, a file's `ETag`, a browser's
/// `User-Agent` and `Accept-*`, the edge's `X-Forwarded-*`). Making a field from its bytes costs
/// a name look-up, a `String` and HTTPTypes' check of the value (≈ 700 instructions, callgrind);
/// a field found here costs a hash of its bytes, one comparison and a copy of the field. What
/// HPACK's dynamic table does for HTTP/2, in miniature and on one side only: nothing changes on
/// the wire.
///
/// A small table of ``slotCount`` slots, each keeping the last field whose bytes hashed to it;
/// only `Header` messages of at most ``longestKey`` bytes are kept (a long cookie rarely repeats,
/// and its comparison would cost what it saves). Not thread-safe: it belongs to one stream's
/// channel handler, on the stream's event loop. Its memory is allocated once and is the
/// handler's for its life.
final class HeaderFieldCache {
    static let slotCount = 32
    static let longestKey = 96

    /// Each slot's key: the `Header` message's bytes, ``longestKey`` bytes per slot.
    private let keys: UnsafeMutableRawBufferPointer
    /// Each slot's key length; 0 for an empty slot (an empty `Header` message is never kept).
    private let lengths: UnsafeMutableBufferPointer<Int>
    private let fields: UnsafeMutableBufferPointer<HTTPField?>

    init() {
        keys = .allocate(byteCount: Self.slotCount * Self.longestKey, alignment: 8)
        lengths = .allocate(capacity: Self.slotCount)
        lengths.initialize(repeating: 0)
        fields = .allocate(capacity: Self.slotCount)
        fields.initialize(repeating: nil)
    }

    deinit {
        keys.deallocate()
        lengths.deallocate()
        fields.deinitialize().deallocate()
    }

    /// The field last kept for exactly these `Header` message bytes, if any.
    func field(for message: UnsafeRawBufferPointer) -> HTTPField? {
        guard let slot = Self.slot(of: message), lengths[slot] == message.count else { return nil }
        guard memcmp(keys.baseAddress! + slot * Self.longestKey, message.baseAddress!, message.count) == 0 else { return nil }
        return fields[slot]
    }

    /// Keeps `field` as the one made of these `Header` message bytes (in place of whatever its
    /// slot held).
    func keep(_ field: HTTPField, for message: UnsafeRawBufferPointer) {
        guard let slot = Self.slot(of: message) else { return }
        let start = slot * Self.longestKey
        UnsafeMutableRawBufferPointer(rebasing: keys[start..<(start + message.count)]).copyMemory(from: message)
        lengths[slot] = message.count
        fields[slot] = field
    }

    /// The slot of a key: its length and its first and last eight bytes, mixed; nil for a key
    /// too long (or empty) to keep.
    private static func slot(of message: UnsafeRawBufferPointer) -> Int? {
        let count = message.count
        guard count > 0, count <= longestKey else { return nil }
        var hash = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        if count >= 8 {
            hash ^= message.loadUnaligned(as: UInt64.self)
            hash = (hash ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= message.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        } else {
            for byte in message { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
        hash = (hash ^ (hash >> 32)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: hash >> 59) & (slotCount - 1)
    }
}
