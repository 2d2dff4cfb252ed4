import HopGateDomain
import Testing

@Suite("ClientAPIKey")
struct ClientAPIKeyTests {
    @Test func generatedKeysAre64URLSafeCharactersAndDistinct() throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<String>()
        for _ in 0..<1000 {
            let key = ClientAPIKey.generate()
            #expect(key.secret.count == 64)
            #expect(key.secret.allSatisfy(allowed.contains))
            seen.insert(key.secret)
            #expect(try ClientAPIKey(parsing: key.secret) == key)
        }
        #expect(seen.count == 1000)
    }

    @Test func generatedKeysUseTheWholeAlphabet() {
        var characters = Set<Character>()
        for _ in 0..<200 { characters.formUnion(ClientAPIKey.generate().secret) }
        #expect(characters.count == 64)
    }

    @Test(arguments: [0, 1, 63, 65, 128])
    func refusesWrongLength(_ length: Int) {
        let error = #expect(throws: ClientAPIKeyError.self) { try ClientAPIKey(parsing: String(repeating: "a", count: length)) }
        #expect(error?.code == .wrongLength)
    }

    @Test(arguments: ["+", "/", "=", " ", "é", ".", "\u{0}"])
    func refusesCharactersOutsideTheAlphabet(_ bad: String) {
        let input = String(repeating: "a", count: 63) + bad
        if input.utf8.count == 64 {
            let error = #expect(throws: ClientAPIKeyError.self) { try ClientAPIKey(parsing: input) }
            #expect(error?.code == .invalidCharacter)
        } else {
            #expect(throws: ClientAPIKeyError.self) { try ClientAPIKey(parsing: input) }
        }
    }

    @Test func hashMatchesOnlyItsKey() throws {
        let key = ClientAPIKey.generate()
        let other = ClientAPIKey.generate()
        #expect(key.hash.matches(key))
        #expect(!key.hash.matches(other))
        #expect(key.hash.hex.count == 64)
        #expect(try ClientAPIKeyHash(hex: key.hash.hex) == key.hash)
    }

    @Test func hashIsSHA256OfTheKey() throws {
        let key = try ClientAPIKey(parsing: String(repeating: "a", count: 64))
        // printf 'a%.0s' {1..64} | sha256sum
        #expect(key.hash.hex == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    @Test(arguments: ["", "xyz", String(repeating: "G", count: 64), String(repeating: "A", count: 64)])
    func refusesMalformedStoredHashes(_ hex: String) {
        #expect(throws: ClientAPIKeyHashError.self) { try ClientAPIKeyHash(hex: hex) }
    }

    @Test func maskedFormHidesTheSecret() throws {
        let key = try ClientAPIKey(parsing: "abcd" + String(repeating: "0", count: 56) + "wxyz")
        #expect(key.masked == "abcd…wxyz")
        #expect("\(key)" == "abcd…wxyz")
        #expect(!"\(key.hash)".contains(key.hash.hex))
    }

    @Test func errorsNeverContainTheInput() {
        let secretish = String(repeating: "s", count: 63) + "!"
        do { _ = try ClientAPIKey(parsing: secretish) } catch {
            #expect(!error.description.contains("sss"))
        }
    }
}
