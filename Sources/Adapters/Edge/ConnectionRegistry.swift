import NIOCore
import Synchronization

/// The web connections a listener has open, so that a graceful shutdown can ask each to finish
/// its current requests and close (`ChannelShouldQuiesceEvent`: HTTP/1.1 closes after the
/// response in flight, HTTP/2 sends GOAWAY and closes when its streams are done).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; one that arrives after quiescing began is quiesced at once.
    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let quiescing = state.withLock { state in
            state.channels[key] = channel
            return state.quiescing
        }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.channels.removeValue(forKey: key) }
        }
        if quiescing { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    /// Asks every open connection to finish what it is doing and close.
    func quiesceAll() {
        let channels = state.withLock { state in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }
}
