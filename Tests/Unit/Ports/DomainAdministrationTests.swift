import Foundation
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Logging
import Testing

/// A wall clock a test sets by hand.
final class FixedWallClock: WallClock, @unchecked Sendable {
    // Only mutated by the test's own task between awaited calls; never concurrently.
    var date = Date(timeIntervalSince1970: 1_800_000_000)
    func now() -> Date { date }
}

/// Records lifecycle notifications.
actor RecordingObserver: DomainLifecycleObserver {
    var events: [String] = []
    func domainRegistered(_ record: DomainRecord) { events.append("registered \(record.domain)") }
    func domainUnregistered(_ domain: DomainName) { events.append("unregistered \(domain)") }
    func domainKeyRotated(_ domain: DomainName) { events.append("rotated \(domain)") }
}

@Suite("DomainAdministration")
struct DomainAdministrationTests {
    let store = InMemoryDomainStore()
    let clock = FixedWallClock()
    let logs = CapturedLogs()
    let observer = RecordingObserver()

    var admin: DomainAdministration {
        DomainAdministration(store: store, clock: clock, observers: [observer], logger: logs.logger())
    }

    @Test func registerReturnsTheKeyOnceAndStoresOnlyItsHash() async throws {
        let issued = try await admin.register(domain: " App.Example.com. ", memo: "메모")
        #expect(issued.record.domain.value == "app.example.com")
        #expect(issued.clientAPIKey.secret.count == 64)
        let stored = try #require(try await store.find(issued.record.domain))
        #expect(stored.keyHash == issued.clientAPIKey.hash)
        #expect(stored.memo.text == "메모")
        #expect(stored.createdAt == clock.date)
        #expect(await observer.events == ["registered app.example.com"])
    }

    @Test func duplicateIsAConflict() async throws {
        _ = try await admin.register(domain: "a.example.com", memo: nil)
        let error = await #expect(throws: AdministrationError.self) { try await admin.register(domain: "A.EXAMPLE.COM", memo: nil) }
        #expect(error?.code == .conflict)
    }

    @Test(arguments: ["", "localhost", "bad_name.com", "10.0.0.1"])
    func invalidDomainsNameTheField(_ input: String) async {
        let error = await #expect(throws: AdministrationError.self) { try await admin.register(domain: input, memo: nil) }
        #expect(error?.code == .invalidDomain)
        #expect(error?.message.hasPrefix("domain:") == true)
    }

    @Test func invalidMemoRefused() async {
        let error = await #expect(throws: AdministrationError.self) {
            try await admin.register(domain: "a.example.com", memo: String(repeating: "x", count: 300))
        }
        #expect(error?.code == .invalidMemo)
    }

    @Test func unregisterNeedsTheMatchingKey() async throws {
        let issued = try await admin.register(domain: "a.example.com", memo: nil)
        let wrong = ClientAPIKey.generate().secret
        let mismatch = await #expect(throws: AdministrationError.self) { try await admin.unregister(domain: "a.example.com", clientAPIKey: wrong) }
        #expect(mismatch?.code == .keyMismatch)
        let malformed = await #expect(throws: AdministrationError.self) { try await admin.unregister(domain: "a.example.com", clientAPIKey: "short") }
        #expect(malformed?.code == .invalidKey)
        let unknown = await #expect(throws: AdministrationError.self) { try await admin.unregister(domain: "b.example.com", clientAPIKey: wrong) }
        #expect(unknown?.code == .notFound)
        try await admin.unregister(domain: "a.example.com", clientAPIKey: issued.clientAPIKey.secret)
        #expect(try await admin.exists(domain: "a.example.com") == false)
        #expect(await observer.events.last == "unregistered a.example.com")
    }

    @Test func statusAndExists() async throws {
        _ = try await admin.register(domain: "a.example.com", memo: "note")
        #expect(try await admin.exists(domain: "A.example.com") == true)
        #expect(try await admin.exists(domain: "z.example.com") == false)
        #expect(try await admin.status(domain: "a.example.com").memo.text == "note")
        let error = await #expect(throws: AdministrationError.self) { try await admin.status(domain: "z.example.com") }
        #expect(error?.code == .notFound)
    }

    @Test func rotateKeyInvalidatesTheOldKey() async throws {
        let first = try await admin.register(domain: "a.example.com", memo: nil)
        clock.date += 60
        let second = try await admin.rotateKey(domain: "a.example.com")
        #expect(second.clientAPIKey != first.clientAPIKey)
        #expect(second.record.updatedAt == clock.date)
        #expect(second.record.createdAt == first.record.createdAt)
        let domain = first.record.domain
        #expect(try await admin.verify(domain: domain, key: first.clientAPIKey) == nil)
        #expect(try await admin.verify(domain: domain, key: second.clientAPIKey) != nil)
        #expect(await observer.events.last == "rotated a.example.com")
        let missing = await #expect(throws: AdministrationError.self) { try await admin.rotateKey(domain: "z.example.com") }
        #expect(missing?.code == .notFound)
    }

    @Test func listPagesInNameOrder() async throws {
        for name in ["c", "a", "e", "b", "d"] { _ = try await admin.register(domain: "\(name).example.com", memo: nil) }
        let first = try await admin.list(after: nil, limit: 2)
        #expect(first.records.map(\.domain.value) == ["a.example.com", "b.example.com"])
        let second = try await admin.list(after: first.nextCursor?.value, limit: 2)
        #expect(second.records.map(\.domain.value) == ["c.example.com", "d.example.com"])
        let last = try await admin.list(after: second.nextCursor?.value, limit: 2)
        #expect(last.records.map(\.domain.value) == ["e.example.com"])
        #expect(last.nextCursor == nil)
        for limit in [0, -1, 501] {
            let error = await #expect(throws: AdministrationError.self) { try await admin.list(after: nil, limit: limit) }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func storeOutageIsUnavailable() async {
        store.failEveryCall(with: DomainStoreError(.unavailable, "connection refused"))
        let error = await #expect(throws: AdministrationError.self) { try await admin.register(domain: "a.example.com", memo: nil) }
        #expect(error?.code == .unavailable)
    }

    @Test func auditLinesNeverContainTheKey() async throws {
        let issued = try await admin.register(domain: "a.example.com", memo: nil)
        let rotated = try await admin.rotateKey(domain: "a.example.com")
        try await admin.unregister(domain: "a.example.com", clientAPIKey: rotated.clientAPIKey.secret)
        let text = logs.text
        #expect(!text.contains(issued.clientAPIKey.secret))
        #expect(!text.contains(rotated.clientAPIKey.secret))
        #expect(text.contains(issued.clientAPIKey.masked))
        let actions = logs.lines.compactMap { $0.metadata["action"] }
        #expect(actions == ["register", "rotate_key", "unregister"])
        #expect(logs.lines.allSatisfy { $0.metadata["component"] == "admin" })
    }
}
