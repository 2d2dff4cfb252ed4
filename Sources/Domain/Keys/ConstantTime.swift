/// Comparisons whose running time does not depend on where two secrets differ.
public enum ConstantTime {
    /// Whether `lhs` and `rhs` hold the same bytes. Runs in time proportional to the longer
    /// input whatever the contents; only the lengths can be learnt from timing.
    public static func equal<L: Collection<UInt8>, R: Collection<UInt8>>(_ lhs: L, _ rhs: R) -> Bool {
        var difference: UInt8 = lhs.count == rhs.count ? 0 : 1
        var left = lhs.makeIterator()
        var right = rhs.makeIterator()
        for _ in 0..<max(lhs.count, rhs.count) {
            difference |= (left.next() ?? 0) ^ (right.next() ?? 0)
        }
        return difference == 0
    }
}
