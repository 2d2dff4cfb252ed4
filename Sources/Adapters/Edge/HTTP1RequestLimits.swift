/// How large an HTTP/1.1 request head may be at the public edge (see `HTTP1RequestHeadGuard`).
/// Defaults follow nginx's (an 8 KiB target) with room for cookie-heavy browsers. Whatever the
/// settings, NIO's parser refuses a whole head over 80 KiB with `431`.
public struct HTTP1RequestLimits: Sendable, Equatable {
    /// Longest request target (path and query); longer is `414`. Default 8 KiB.
    public var maximumTargetBytes: Int
    /// Most header fields; more is `431`. Default 100.
    public var maximumHeaderCount: Int
    /// Most bytes of header names and values; more is `431`. Default 64 KiB.
    public var maximumHeaderBytes: Int

    public init(maximumTargetBytes: Int = 8 * 1024, maximumHeaderCount: Int = 100, maximumHeaderBytes: Int = 64 * 1024) {
        self.maximumTargetBytes = maximumTargetBytes
        self.maximumHeaderCount = maximumHeaderCount
        self.maximumHeaderBytes = maximumHeaderBytes
    }
}
