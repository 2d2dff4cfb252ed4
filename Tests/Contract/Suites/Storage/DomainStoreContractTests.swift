import Foundation
import HopGateDomain
import HopGatePorts
import HopGateTestSupport
import Testing

/// The `DomainStore` contract, run unchanged against every store (`StoreKind.allCases`).
@Suite("DomainStore contract")
struct DomainStoreContractTests {
    @Test("create, then find returns the same record", arguments: StoreKind.allCases)
    func createAndFind(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let record = try sampleRecord("app.example.com", memo: "first")
            try await store.create(record)
            let found = try await store.find(try DomainName(parsing: "app.example.com"))
            #expect(found == record)
            #expect(try await store.count() == 1)
            #expect(try await store.find(try DomainName(parsing: "other.example.com")) == nil)
        }
    }

    @Test("a second registration of a domain is a conflict and changes nothing", arguments: StoreKind.allCases)
    func duplicateIsConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = try sampleRecord("dup.example.com", memo: "first")
            try await store.create(first)
            let second = try sampleRecord("DUP.example.com.", memo: "second")
            let error = await #expect(throws: DomainStoreError.self) { try await store.create(second) }
            #expect(error?.code == .conflict)
            #expect(try await store.find(first.domain) == first)
            #expect(try await store.count() == 1)
        }
    }

    @Test("every spelling that normalises to the same name finds the record", arguments: StoreKind.allCases)
    func findBySpelling(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let record = try sampleRecord("xn--bcher-kva.example", memo: "")
            try await store.create(record)
            for spelling in ["xn--bcher-kva.example", "XN--BCHER-KVA.EXAMPLE", " xn--bcher-kva.example. ", "xn--Bcher-kva.Example:443"] {
                #expect(try await store.find(try DomainName(parsing: spelling))?.id == record.id, "\(spelling)")
            }
        }
    }

    @Test("delete needs the matching key hash", arguments: StoreKind.allCases)
    func deleteNeedsKey(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let key = ClientAPIKey.generate()
            let record = try sampleRecord("del.example.com", key: key)
            try await store.create(record)
            #expect(try await store.delete(record.domain, keyHash: ClientAPIKey.generate().hash) == false)
            #expect(try await store.find(record.domain) != nil)
            #expect(try await store.delete(try DomainName(parsing: "unknown.example.com"), keyHash: key.hash) == false)
            #expect(try await store.delete(record.domain, keyHash: key.hash) == true)
            #expect(try await store.find(record.domain) == nil)
            #expect(try await store.delete(record.domain, keyHash: key.hash) == false)
            // The name is free again.
            try await store.create(try sampleRecord("del.example.com"))
        }
    }

    @Test("replacing the key hash updates updatedAt and keeps createdAt", arguments: StoreKind.allCases)
    func timestamps(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let created = Date(timeIntervalSince1970: 1_764_000_000.123456)
            let record = try sampleRecord("time.example.com", at: created)
            try await store.create(record)
            let stored = try #require(try await store.find(record.domain))
            #expect(stored.createdAt == created.truncatedToStorageResolution)
            #expect(stored.updatedAt == stored.createdAt)

            let later = created.addingTimeInterval(3600.000001).truncatedToStorageResolution
            let newKey = ClientAPIKey.generate()
            let updated = try #require(try await store.replaceKeyHash(of: record.domain, with: newKey.hash, at: later))
            #expect(updated.createdAt == stored.createdAt)
            #expect(updated.updatedAt == later)
            #expect(updated.keyHash == newKey.hash)
            #expect(updated.id == record.id)
            #expect(try await store.find(record.domain) == updated)
            #expect(try await store.replaceKeyHash(of: try DomainName(parsing: "nope.example.com"), with: newKey.hash, at: later) == nil)
            // The old key no longer deletes.
            #expect(try await store.delete(record.domain, keyHash: record.keyHash) == false)
        }
    }

    @Test("a Unicode memo round-trips exactly", arguments: StoreKind.allCases)
    func unicodeMemo(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let text = "한국어 메모 — café, emoji 🚇🏳️‍🌈, combining é, RTL עברית, quote ' \" \\ %_"
            let record = try sampleRecord("memo.example.com", memo: text)
            try await store.create(record)
            #expect(try await store.find(record.domain)?.memo.text == text)
        }
    }

    @Test("list pages in stable domain order", arguments: StoreKind.allCases)
    func listPaged(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let names = ["b.example.com", "a.example.com", "a-b.example.com", "z.example.org", "a0.example.com", "c.example.net", "aa.example.com"]
            for name in names { try await store.create(try sampleRecord(name)) }
            var seen: [String] = []
            var cursor: DomainName?
            while true {
                let page = try await store.list(after: cursor, limit: 3)
                #expect(page.count <= 3)
                seen += page.map(\.domain.value)
                guard page.count == 3 else { break }
                cursor = page.last?.domain
                // A record added behind the cursor does not shift later pages.
                if seen.count == 3 { try await store.create(try sampleRecord("0.example.com")) }
            }
            #expect(seen == names.sorted())
            let error = await #expect(throws: DomainStoreError.self) { try await store.list(after: nil, limit: 0) }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test("of 50 concurrent registrations of one domain exactly one wins", arguments: StoreKind.allCases)
    func concurrentRegistrations(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        do {
                            try await store.create(try sampleRecord("race.example.com", memo: "contender \(index)"))
                            return "won"
                        } catch let error as DomainStoreError where error.code == .conflict {
                            return "conflict"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "won" }.count == 1)
            #expect(outcomes.filter { $0 == "conflict" }.count == 49)
            #expect(try await store.count() == 1)
        }
    }

    @Test("10,000 records are all listed and found", arguments: StoreKind.allCases)
    func tenThousand(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let total = 10_000
            let names = (0..<total).map { String(format: "host-%05d.example.com", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slice in stride(from: 0, to: total, by: total / 8) {
                    group.addTask {
                        for name in names[slice..<min(slice + total / 8, total)] {
                            try await store.create(try sampleRecord(name))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.count() == total)
            var listed: [String] = []
            var cursor: DomainName?
            repeat {
                let page = try await store.list(after: cursor, limit: 500)
                listed += page.map(\.domain.value)
                cursor = page.count == 500 ? page.last?.domain : nil
            } while cursor != nil
            #expect(listed == names)
            for name in stride(from: 0, to: total, by: 97).map({ names[$0] }) {
                #expect(try await store.find(try DomainName(parsing: name))?.domain.value == name)
            }
        }
    }

    @Test("data survives closing and reopening the store", arguments: StoreKind.allCases)
    func survivesReopen(kind: StoreKind) async throws {
        try await withStoreLocation(kind) { location in
            let key = ClientAPIKey.generate()
            let record = try sampleRecord("keep.example.com", key: key, memo: "still here 여기")
            try await location.withOpenStore { store in try await store.create(record) }
            try await location.withOpenStore { (store: any DomainStore) async throws -> Void in
                #expect(try await store.find(record.domain) == record)
                #expect(try await store.count() == 1)
                #expect(try await store.delete(record.domain, keyHash: key.hash))
            }
            try await location.withOpenStore { (store: any DomainStore) async throws -> Void in
                #expect(try await store.count() == 0)
            }
        }
    }
}

/// A record for `name` with timestamps at the store's resolution.
func sampleRecord(_ name: String, key: ClientAPIKey = .generate(), memo: String = "", at date: Date = Date()) throws -> DomainRecord {
    DomainRecord(
        domain: try DomainName(parsing: name), keyHash: key.hash, memo: try Memo(memo),
        createdAt: date.truncatedToStorageResolution)
}
