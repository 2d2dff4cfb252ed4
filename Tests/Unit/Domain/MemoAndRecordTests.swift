import Foundation
import HopGateDomain
import Testing

@Suite("Memo and DomainRecord")
struct MemoAndRecordTests {
    @Test(arguments: ["", "team wiki", "한국어 메모 🚀", "e\u{301}le\u{300}ve", "line one\nline two\ttabbed", String(repeating: "가", count: 256)])
    func acceptsAnyUnicode(_ text: String) throws {
        #expect(try Memo(text).text == text)
    }

    @Test(arguments: [String(repeating: "a", count: 257), String(repeating: "🚀", count: 257), "nul\u{0}inside", "bell\u{7}", "esc\u{1b}[31m"])
    func refusesTooLongOrControlCharacters(_ text: String) {
        #expect(throws: MemoError.self) { try Memo(text) }
    }

    @Test func byteLimitAppliesToo() {
        // 256 grapheme clusters, each a family emoji of 25 UTF-8 bytes.
        let text = String(repeating: "👨‍👩‍👧‍👦", count: 100)
        #expect(text.count == 100)
        #expect(throws: MemoError.self) { try Memo(text) }
    }

    @Test func recordDefaultsUpdatedAtToCreatedAt() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let record = DomainRecord(domain: try DomainName(parsing: "a.example.com"), keyHash: ClientAPIKey.generate().hash, memo: .empty, createdAt: now)
        #expect(record.updatedAt == now)
        #expect(record.id != DomainRecord(domain: record.domain, keyHash: record.keyHash, memo: .empty, createdAt: now).id)
    }
}
