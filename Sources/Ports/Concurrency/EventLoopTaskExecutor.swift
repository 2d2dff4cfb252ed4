public import NIOCore

/// Runs a task's jobs on one event loop: a connection's task given this preference runs on its
/// channel's thread, so that the channel's reads resume it, and its writes reach the channel,
/// without a hop to another thread.
///
/// swift-nio 2.101 has no `TaskExecutor` of its own for an event loop. Each job is handed over
/// with `execute`, which from the loop's own thread only queues it.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
