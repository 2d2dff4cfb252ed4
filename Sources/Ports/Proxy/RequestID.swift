import Synchronization

/// The `X-Request-Id` of a proxied exchange: the one the public client sent when it is safe to
/// reflect, or a new one.
///
/// New ids cost no system call: a process-wide key is drawn once from the system's generator
/// and each id is SplitMix64 of the key plus a counter (a bijection, so no two ids of one
/// process repeat). They are correlation ids, not secrets. Drawing 16 hex digits from
/// `SystemRandomNumberGenerator` instead cost 16 `getrandom` calls on glibc 2.36.
public enum RequestID {
    /// The longest id accepted from a client.
    public static let maximumLength = 128

    /// `offered` when it is 1…128 characters of `[A-Za-z0-9._-]`, else a new id: anything else
    /// could carry markup or quotes into error pages and logs.
    public static func accepting(_ offered: String?) -> String {
        if let offered, isAcceptable(offered) { return offered }
        return generate()
    }

    /// Whether `id` may be reflected as it is.
    public static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// A new id: 16 lowercase hex digits.
    public static func generate() -> String {
        let sequence = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var value = mix(key &+ sequence &* 0x9E37_79B9_7F4A_7C15)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in stride(from: 15, through: 0, by: -1) {
                buffer[index] = hexDigits[Int(value & 0xF)]
                value >>= 4
            }
            return 16
        }
    }

    private static let key: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let counter = Atomic<UInt64>(0)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// SplitMix64's finaliser: a bijection on 64 bits that spreads every input bit.
    private static func mix(_ input: UInt64) -> UInt64 {
        var z = input
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
