import Foundation
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Testing

@Suite("UpstreamDomainImport")
struct UpstreamDomainImportTests {
    let store = InMemoryDomainStore()
    /// An upstream-style key: 64 lowercase hexadecimal characters.
    static let hexKey = String(repeating: "0123456789abcdef", count: 4)
    static let created = Date(timeIntervalSince1970: 1_700_000_000.123456)
    static let updated = Date(timeIntervalSince1970: 1_700_000_500.5)

    static func row(_ domain: String, key: String = hexKey, memo: String = "") -> UpstreamDomainRow {
        UpstreamDomainRow(domain: domain, clientAPIKey: key, memo: memo, createdAt: created, updatedAt: updated)
    }

    @Test("a valid row becomes a record with the key's hash, its memo and both timestamps")
    func copiesARow() async throws {
        let report = try await UpstreamDomainImport(store: store).run([Self.row("app.example.com", memo: "스테이징")])
        let name = try DomainName(parsing: "app.example.com")
        #expect(report.copied == [.init(domain: name, memoDropped: nil)])
        #expect(report.skipped.isEmpty)
        let record = try #require(try await store.find(name))
        #expect(record.keyHash.matches(try ClientAPIKey(parsing: Self.hexKey)))
        #expect(record.memo.text == "스테이징")
        #expect(record.createdAt == Self.created.truncatedToStorageResolution)
        #expect(record.updatedAt == Self.updated.truncatedToStorageResolution)
    }

    @Test("a second run copies nothing and says every row is already present")
    func idempotent() async throws {
        let rows = [Self.row("a.example.com"), Self.row("b.example.com", key: String(repeating: "f", count: 64))]
        let first = try await UpstreamDomainImport(store: store).run(rows)
        #expect(first.copied.count == 2)
        let second = try await UpstreamDomainImport(store: store).run(rows)
        #expect(second.copied.isEmpty)
        #expect(second.skipped.map(\.reason) == [.alreadyPresent, .alreadyPresent])
        #expect(second.lines.last == "nothing to copy: 0 copied, 2 skipped")
        #expect(try await store.count() == 2)
    }

    @Test("invalid names and keys are skipped with the reason, and the key never appears in the report")
    func skipsInvalidRows() async throws {
        let badKey = String(repeating: "k", count: 63)
        let report = try await UpstreamDomainImport(store: store).run([
            Self.row("localhost"),
            Self.row("under_score.example.com"),
            Self.row("short.example.com", key: badKey),
            Self.row("symbols.example.com", key: String(repeating: "!", count: 64)),
            Self.row("ok.example.com"),
        ])
        #expect(report.copied.map(\.domain.value) == ["ok.example.com"])
        #expect(report.skipped.map(\.domain) == ["localhost", "under_score.example.com", "short.example.com", "symbols.example.com"])
        guard report.skipped.count == 4 else { return }
        guard case .invalidDomain = report.skipped[0].reason, case .invalidDomain = report.skipped[1].reason else {
            Issue.record("expected invalid domains: \(report.skipped)")
            return
        }
        #expect(report.skipped[2].reason == .invalidKey("the client API key must be 64 characters long, not 63"))
        guard case .invalidKey = report.skipped[3].reason else { Issue.record("\(report.skipped[3])"); return }
        let text = report.lines.joined(separator: "\n")
        #expect(!text.contains(badKey) && !text.contains(Self.hexKey))
        #expect(text.contains("skipped short.example.com: invalid key: the client API key must be 64 characters long, not 63"))
        #expect(report.lines.last == "1 copied, 4 skipped")
    }

    @Test("a domain HopGate already has with another key is kept as it is")
    func keepsExistingRecord() async throws {
        let name = try DomainName(parsing: "taken.example.com")
        let ours = ClientAPIKey.generate()
        try await store.create(DomainRecord(domain: name, keyHash: ours.hash, memo: .empty, createdAt: Date().truncatedToStorageResolution))
        let report = try await UpstreamDomainImport(store: store).run([Self.row("Taken.Example.com")])
        #expect(report.skipped == [.init(domain: "Taken.Example.com", reason: .alreadyPresentWithAnotherKey)])
        #expect(try await store.find(name)?.keyHash == ours.hash)
    }

    @Test("two upstream spellings of one name: the first is copied, the second reported present")
    func duplicateSpellings() async throws {
        let report = try await UpstreamDomainImport(store: store).run([Self.row("dup.example.com"), Self.row("dup.example.com.")])
        #expect(report.copied.count == 1)
        #expect(report.skipped.map(\.reason) == [.alreadyPresent])
    }

    @Test("a memo HopGate refuses is dropped, not the domain")
    func dropsAnUnusableMemo() async throws {
        let report = try await UpstreamDomainImport(store: store).run([Self.row("memo.example.com", memo: String(repeating: "x", count: 300))])
        #expect(report.copied.first?.memoDropped != nil)
        #expect(try await store.find(try DomainName(parsing: "memo.example.com"))?.memo == .empty)
        #expect(report.lines.first?.hasPrefix("copied memo.example.com (memo dropped:") == true)
    }

    @Test("a store failure is thrown, not reported as a skip")
    func storeFailure() async throws {
        store.failEveryCall(with: DomainStoreError(.unavailable, "down"))
        await #expect(throws: DomainStoreError(.unavailable, "down")) {
            try await UpstreamDomainImport(store: store).run([Self.row("a.example.com")])
        }
    }
}
