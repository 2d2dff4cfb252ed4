import HopGatePorts
import NIOCore
import NIOPosix
import Testing

@Suite("EventLoopTaskExecutor")
struct EventLoopTaskExecutorTests {
    @Test("a task that prefers the executor runs on its event loop, also after each suspension")
    func runsOnTheEventLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let other = group.next()
        let seen = await withTaskGroup(of: [Bool].self) { tasks in
            tasks.addTask(executorPreference: EventLoopTaskExecutor(loop)) {
                var seen = [loop.inEventLoop]
                try? await Task.sleep(for: .milliseconds(2))
                seen.append(loop.inEventLoop)
                await Task.yield()
                seen.append(loop.inEventLoop)
                // Resumed by a future completed on the other loop: still back on its own.
                _ = try? await other.submit { 1 }.get()
                seen.append(loop.inEventLoop)
                // A child task inherits the preference.
                async let child = loop.inEventLoop
                seen.append(await child)
                return seen
            }
            return await tasks.next() ?? []
        }
        #expect(seen == [true, true, true, true, true])
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }

    @Test("tasks on two loops' executors run on their own loop each")
    func keepsTasksApart() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = [group.next(), group.next()]
        let placed = await withTaskGroup(of: (Int, Bool, Bool).self) { tasks in
            for index in 0..<20 {
                let loop = loops[index % 2]
                let otherLoop = loops[1 - index % 2]
                tasks.addTask(executorPreference: EventLoopTaskExecutor(loop)) {
                    await Task.yield()
                    return (index, loop.inEventLoop, otherLoop.inEventLoop)
                }
            }
            var placed: [(Int, Bool, Bool)] = []
            for await result in tasks { placed.append(result) }
            return placed
        }
        #expect(placed.count == 20)
        #expect(placed.allSatisfy { $0.1 && !$0.2 })
        try await group.shutdownGracefully()
    }
}
