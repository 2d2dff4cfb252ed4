public import Foundation

/// Reads the calendar time that records are stamped with. Durations and deadlines use a
/// Swift `Clock` instead; this port exists so tests can pin `created_at`/`updated_at`.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's calendar time.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}
