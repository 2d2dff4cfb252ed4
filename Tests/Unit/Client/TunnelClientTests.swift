import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Logging
import Synchronization
import Testing

/// A connector that plays a script: each call takes the next outcome.
final class ScriptedConnector: TunnelConnector {
    enum Outcome: Sendable {
        case welcomeThenClose, fail, refuse(TunnelRefusal.Code)
        /// Welcomed, then drained by the server: `onDrain` is called, and the tunnel ends when
        /// `finished` fires (its exchanges in flight are done).
        case drainedByServer(finished: TunnelLeaveSignal)
    }
    let ended = Mutex(0)
    private let script: Mutex<[Outcome]>
    let calls = Mutex(0)
    init(_ script: [Outcome]) { self.script = Mutex(script) }

    func run(
        hello: TunnelHello, handler: any ExchangeHandler, leave: TunnelLeaveSignal,
        onDrain: @escaping @Sendable () -> Void,
        onWelcome: @escaping @Sendable (TunnelWelcome) -> Void
    ) async throws -> TunnelCloseReason {
        calls.withLock { $0 += 1 }
        defer { ended.withLock { $0 += 1 } }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        switch next {
        case .welcomeThenClose:
            onWelcome(TunnelWelcome(tunnelID: TunnelID(), domain: try DomainName(parsing: hello.domain), heartbeatInterval: .seconds(10), serverVersion: "t"))
            return .drained
        case .fail: throw TunnelExchangeError(.tunnelFailed, "connection refused")
        case .refuse(let code): throw TunnelRefusal(code, "no")
        case .drainedByServer(let finished):
            onWelcome(TunnelWelcome(tunnelID: TunnelID(), domain: try DomainName(parsing: hello.domain), heartbeatInterval: .seconds(10), serverVersion: "t"))
            onDrain()
            await finished.requested()
            return .drained
        case nil:  // connected until the client leaves
            onWelcome(TunnelWelcome(tunnelID: TunnelID(), domain: try DomainName(parsing: hello.domain), heartbeatInterval: .seconds(10), serverVersion: "t"))
            await leave.requested()
            return .drained
        }
    }
}

struct NoHandler: ExchangeHandler {
    func handle(_ head: ExchangeRequestHead, requestBody: PartStream<ExchangeRequestPart>, response: PartWriter<ExchangeResponsePart>) async throws {}
}

@Suite("TunnelClient reconnects")
struct TunnelClientTests {
    let hello = TunnelHello(domain: "a.example.com", clientAPIKey: String(repeating: "k", count: 64), clientName: "t", clientVersion: "1")

    @Test func retriesWithBackoffUntilCancelled() async throws {
        let connector = ScriptedConnector([.fail, .fail, .refuse(.unavailable), .welcomeThenClose])
        let clock = ManualClock()
        let statuses = Mutex<[String]>([])
        let client = TunnelClient(
            connector: connector, hello: hello, handler: NoHandler(),
            backoff: ReconnectBackoff(base: .seconds(1), maximum: .seconds(8)), clock: clock, logger: CapturedLogs().logger()
        ) { status in
            statuses.withLock { list in
                switch status {
                case .connecting(let attempt): list.append("connecting \(attempt)")
                case .connected: list.append("connected")
                case .disconnected(_, let delay): list.append("retry \(delay <= .seconds(8))")
                }
            }
        }
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            // Each failure sleeps on the manual clock; advance it until the fifth attempt is under way.
            while connector.calls.withLock({ $0 }) < 5 {
                if clock.sleeperCount > 0 { clock.advance(by: .seconds(8)) }
                await Task.yield()
            }
            group.cancelAll()
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.prefix(8) == ["connecting 1", "retry true", "connecting 2", "retry true", "connecting 3", "retry true", "connecting 4", "connected"])
    }

    @Test("a tunnel the server drained reconnects with an info line; a failed one with a warning")
    func aDrainIsRoutineAFailureIsAWarning() async throws {
        let connector = ScriptedConnector([.welcomeThenClose, .fail])
        let clock = ManualClock()
        let logs = CapturedLogs()
        let client = TunnelClient(connector: connector, hello: hello, handler: NoHandler(), clock: clock, logger: logs.logger())
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            while connector.calls.withLock({ $0 }) < 3 {
                if clock.sleeperCount > 0 { clock.advance(by: .seconds(60)) }
                await Task.yield()
            }
            group.cancelAll()
        }
        let levels = logs.lines.filter { $0.message == "tunnel down, reconnecting" }.map(\.level)
        #expect(Array(levels.prefix(2)) == [.info, .warning], "\(levels)")
    }

    @Test func leavingEndsRunWithoutReconnecting() async throws {
        let connector = ScriptedConnector([])
        let client = TunnelClient(connector: connector, hello: hello, handler: NoHandler(), clock: ManualClock(), logger: CapturedLogs().logger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            while connector.calls.withLock({ $0 }) == 0 { await Task.yield() }
            client.leave()
            try await group.next()  // run returned by itself: nothing was cancelled
        }
        #expect(connector.calls.withLock { $0 } == 1)
    }

    @Test("a tunnel the server drains gets its successor before it ends; leaving waits for both")
    func aServerDrainConnectsTheSuccessorAtOnce() async throws {
        let finished = TunnelLeaveSignal()
        let connector = ScriptedConnector([.drainedByServer(finished: finished)])
        let clock = ManualClock()
        let client = TunnelClient(connector: connector, hello: hello, handler: NoHandler(), clock: clock, logger: CapturedLogs().logger())
        let returned = TunnelLeaveSignal()  // used as a flag: set when run returns
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await client.run()
                returned.leave()
            }
            // The successor connects with no backoff (the manual clock never moves) while the
            // drained tunnel is still serving.
            for _ in 0..<500 where connector.calls.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            guard connector.calls.withLock({ $0 }) == 2 else {
                Issue.record("no successor connected while the drained tunnel was serving")
                finished.leave()
                client.leave()
                return
            }
            #expect(connector.ended.withLock { $0 } == 0)
            #expect(clock.sleeperCount == 0)
            client.leave()
            // The successor leaves; run still waits for the drained tunnel's exchanges.
            for _ in 0..<500 where connector.ended.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(!returned.isRequested)
            finished.leave()
            try await group.next()
        }
        #expect(returned.isRequested)
        #expect(connector.calls.withLock { $0 } == 2)
    }

    @Test(arguments: [TunnelRefusal.Code.unauthenticated, .permissionDenied, .invalidHello])
    func stopsOnRefusalsThatRetryingCannotFix(_ code: TunnelRefusal.Code) async {
        let connector = ScriptedConnector([.refuse(code)])
        let client = TunnelClient(connector: connector, hello: hello, handler: NoHandler(), clock: ManualClock(), logger: CapturedLogs().logger())
        let error = await #expect(throws: TunnelRefusal.self) { try await client.run() }
        #expect(error?.code == code)
        #expect(connector.calls.withLock { $0 } == 1)
    }
}
