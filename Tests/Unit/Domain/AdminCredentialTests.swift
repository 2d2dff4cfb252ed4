import HopGateDomain
import Testing

@Suite("AdminCredential and BearerToken")
struct AdminCredentialTests {
    static let key = "0123456789abcdef0123456789abcdef"

    @Test(arguments: [
        "Bearer \(key)", "bearer \(key)", "BEARER \(key)", "  Bearer   \(key)  ", "\tBearer\t\(key)",
    ])
    func authorizesWellFormedHeaders(_ header: String) throws {
        let credential = try AdminCredential(configuredKey: Self.key, mode: .production)
        #expect(credential.authorizes(authorizationHeader: header))
    }

    @Test(arguments: [
        nil, "", "Bearer", "Bearer ", "Basic \(key)", "Token \(key)", "\(key)",
        "Bearer \(key)x", "Bearer \(key.dropLast())", "Bearer \(key) extra", "Bearer wrong",
    ] as [String?])
    func refusesEverythingElse(_ header: String?) throws {
        let credential = try AdminCredential(configuredKey: Self.key, mode: .production)
        #expect(!credential.authorizes(authorizationHeader: header))
    }

    @Test func shortKeyRefusedInProductionOnly() throws {
        let short = #expect(throws: AdminCredentialError.self) { try AdminCredential(configuredKey: "short", mode: .production) }
        #expect(short?.code == .keyTooShort)
        let dev = try AdminCredential(configuredKey: "short", mode: .development)
        #expect(dev.authorizes(authorizationHeader: "Bearer short"))
    }

    @Test func emptyOrSpacedKeyRefusedEvenInDevelopment() {
        let empty = #expect(throws: AdminCredentialError.self) { try AdminCredential(configuredKey: "  ", mode: .development) }
        #expect(empty?.code == .emptyKey)
        let spaced = #expect(throws: AdminCredentialError.self) {
            try AdminCredential(configuredKey: "abc def" + Self.key, mode: .production)
        }
        #expect(spaced?.code == .keyHasWhitespace)
    }

    @Test(arguments: [
        ("", BearerTokenError.Code.empty),
        ("Basic abc", .notBearer),
        ("Bearer", .missingToken),
        ("Bearer    ", .missingToken),
        ("Bearer a b", .malformedToken),
        ("Bearer a\u{0}b", .malformedToken),
        ("Bearer ключ", .malformedToken),
    ])
    func bearerRefusals(_ header: String, _ code: BearerTokenError.Code) {
        do {
            _ = try BearerToken(parsing: header)
            Issue.record("accepted \(header)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func bearerDescriptionRedacts() throws {
        let token = try BearerToken(parsing: "Bearer secret-token")
        #expect(token.value == "secret-token")
        #expect(!"\(token)".contains("secret"))
    }
}
