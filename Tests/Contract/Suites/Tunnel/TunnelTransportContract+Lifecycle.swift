import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Testing

/// The session lifecycle (``TunnelLifecycle``) as every transport must carry it out: heartbeats,
/// drain, the drain deadline and the close reasons the acceptor is told.
extension TunnelTransportContract {
    @Test("a client that stops answering heartbeats is closed with heartbeatTimeout", arguments: TunnelTransportKind.allCases)
    func silentPeer(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind, heartbeatInterval: .seconds(1)) { harness in
            let key = try await harness.register(Self.domain)
            try await withClient(harness, key: key, handler: EchoHandler(name: "a"), faults: .init(stopsAnsweringHeartbeats: true)) {
                for _ in 0..<1000 where !harness.closes.reasons.contains(.heartbeatTimeout) { try await Task.sleep(for: .milliseconds(10)) }
                #expect(harness.closes.reasons == [.heartbeatTimeout])
                #expect(harness.hub.tunnelCount == 0)
            }
        }
    }

    @Test("drain lets the in-flight exchange finish while new exchanges go to the other tunnel", arguments: TunnelTransportKind.allCases)
    func drain(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let gate = Gate()
            try await withClient(harness, key: key, handler: GatedHandler(name: "first", gate: gate)) {
                let first = try connection(harness)
                try await withClient(harness, key: key, handler: GatedHandler(name: "second", gate: gate)) {
                    try await withThrowingTaskGroup(of: String.self) { group in
                        group.addTask {
                            try await first.exchange(Self.request("/in-flight")) { body, response in
                                try await body.write(.end(nil))
                                return try await collectText(response)
                            }
                        }
                        for _ in 0..<200 where gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                        await first.drain()
                        let refused = await #expect(throws: TunnelExchangeError.self) {
                            _ = try await first.exchange(Self.request("/late")) { _, response in try await collectText(response) }
                        }
                        #expect(refused?.code == .tunnelUnavailable)
                        gate.open()
                        let next = try #require(harness.hub.connection(for: try DomainName(parsing: Self.domain)))
                        #expect(next.id != first.id)
                        let other = try await next.exchange(Self.request("/new")) { body, response in
                            try await body.write(.end(nil))
                            return try await collectText(response)
                        }
                        #expect(other == "second /new")
                        #expect(try await group.next() == "first /in-flight")
                    }
                    for _ in 0..<300 where !harness.closes.reasons.contains(.drained) { try await Task.sleep(for: .milliseconds(10)) }
                    #expect(harness.closes.reasons == [.drained])
                }
            }
        }
    }

    @Test("a client that leaves gets no new exchanges, finishes the one in flight, and its run returns drained", arguments: TunnelTransportKind.allCases)
    func clientLeaves(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let gate = Gate()
            let leave = TunnelLeaveSignal()
            let connector = harness.connector()
            try await withThrowingTaskGroup(of: TunnelCloseReason?.self) { group in
                group.addTask {
                    try await connector.run(
                        hello: TunnelHello(domain: Self.domain, clientAPIKey: key.secret, clientName: "contract", clientVersion: "1"),
                        handler: GatedHandler(name: "leaving", gate: gate), leave: leave, onWelcome: { _ in })
                }
                group.addTask {
                    for _ in 0..<500 where harness.hub.tunnelCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
                    let tunnel = try connection(harness)
                    return try await tunnel.exchange(Self.request("/in-flight")) { body, response in
                        try await body.write(.end(nil))
                        #expect(try await collectText(response) == "leaving /in-flight")
                        return nil
                    }
                }
                for _ in 0..<300 where gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(gate.waiting == 1)
                leave.leave()
                // The server stops routing to it at once; the exchange in flight is not cut off.
                for _ in 0..<300 where harness.hub.connection(for: try DomainName(parsing: Self.domain)) != nil {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(harness.hub.connection(for: try DomainName(parsing: Self.domain)) == nil)
                gate.open()
                var reasons: [TunnelCloseReason] = []
                while let reason = try await group.next() { if let reason { reasons.append(reason) } }
                #expect(reasons == [.drained])
            }
            for _ in 0..<300 where !harness.closes.reasons.contains(.drained) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(harness.closes.reasons == [.drained])
        }
    }

    @Test("a quiet tunnel whose client sends heartbeats stays open past the heartbeat timeout", arguments: TunnelTransportKind.allCases)
    func heartbeatsKeepAQuietTunnel(kind: TunnelTransportKind) async throws {
        // 2 s, not 1 s: on a slow two-core machine running the whole suite, a 1 s heartbeat was
        // once late three times in a row.
        try await withTunnelTransport(kind, heartbeatInterval: .seconds(2)) { harness in
            let key = try await harness.register(Self.domain)
            try await withClient(harness, key: key, handler: EchoHandler(name: "a")) {
                let tunnel = try connection(harness)
                // The timeout is three intervals; four pass with no request.
                try await Task.sleep(for: .seconds(8))
                #expect(harness.closes.reasons.isEmpty, "the tunnel closed: \(harness.closes.reasons)")
                let answer = try await tunnel.exchange(Self.request("/still-there")) { body, response in
                    try await body.write(.end(nil))
                    return try await collectText(response)
                }
                #expect(answer == "a /still-there")
            }
        }
    }

    @Test("a drain with nothing in flight closes the tunnel at once as drained, and the client's run returns drained after telling of the drain", arguments: TunnelTransportKind.allCases)
    func idleDrainClosesAtOnce(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind) { harness in
            let key = try await harness.register(Self.domain)
            let connector = harness.connector()
            let toldOfDrain = TunnelLeaveSignal()  // used as a flag: set by onDrain
            try await withThrowingTaskGroup(of: TunnelCloseReason.self) { group in
                group.addTask {
                    let reason = try await connector.run(
                        hello: TunnelHello(domain: Self.domain, clientAPIKey: key.secret, clientName: "contract", clientVersion: "1"),
                        handler: EchoHandler(name: "idle"), leave: TunnelLeaveSignal(), onDrain: { toldOfDrain.leave() }, onWelcome: { _ in })
                    #expect(toldOfDrain.isRequested, "run returned before onDrain was called")
                    return reason
                }
                for _ in 0..<500 where harness.hub.tunnelCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
                let tunnel = try connection(harness)
                await tunnel.drain()
                let refused = await #expect(throws: TunnelExchangeError.self) {
                    _ = try await tunnel.exchange(Self.request("/late")) { _, response in try await collectText(response) }
                }
                #expect(refused?.code == .tunnelUnavailable)
                #expect(try await group.next() == .drained)
            }
            for _ in 0..<300 where harness.closes.reasons.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(harness.closes.reasons == [.drained])
            #expect(harness.hub.tunnelCount == 0)
        }
    }

    @Test("a drained tunnel whose exchange never finishes is closed with drainTimeout, failing the exchange", arguments: TunnelTransportKind.allCases)
    func drainDeadline(kind: TunnelTransportKind) async throws {
        try await withTunnelTransport(kind, heartbeatInterval: .seconds(1), drainTimeout: .seconds(1)) { harness in
            let key = try await harness.register(Self.domain)
            let gate = Gate()  // never opened
            try await withClient(harness, key: key, handler: GatedHandler(name: "stuck", gate: gate)) {
                let tunnel = try connection(harness)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        let failure = await #expect(throws: TunnelExchangeError.self) {
                            _ = try await tunnel.exchange(Self.request("/in-flight")) { body, response in
                                try await body.write(.end(nil))
                                return try await collectText(response)
                            }
                        }
                        #expect(failure?.code == .tunnelFailed)
                    }
                    for _ in 0..<300 where gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                    #expect(gate.waiting == 1)
                    await tunnel.drain()
                    try await group.waitForAll()
                }
                for _ in 0..<1000 where harness.closes.reasons.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                #expect(harness.closes.reasons == [.drainTimeout])
                #expect(harness.hub.tunnelCount == 0)
            }
        }
    }
}
