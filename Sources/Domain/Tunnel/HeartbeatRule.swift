/// When a tunnel's peer counts as dead: the one rule that both ends of every transport and
/// ``TunnelLifecycle`` apply.
///
/// Each side sends a heartbeat every interval. A peer that has been silent (no frame, no
/// heartbeat) for ``missedBeats`` intervals is gone.
public enum HeartbeatRule {
    /// How many heartbeats in a row a peer may miss before it counts as dead.
    public static let missedBeats = 3

    /// The silence after which a peer sending heartbeats every `interval` counts as dead.
    public static func timeout(forInterval interval: Duration) -> Duration {
        interval * missedBeats
    }

    /// Whether a peer silent for `silence` is dead, with a silence allowance of `timeout`.
    public static func isDead(silence: Duration, timeout: Duration) -> Bool {
        silence >= timeout
    }

    /// Whether a peer silent for `silence` is dead when heartbeats are due every `interval`.
    public static func isDead(silence: Duration, interval: Duration) -> Bool {
        isDead(silence: silence, timeout: timeout(forInterval: interval))
    }
}
