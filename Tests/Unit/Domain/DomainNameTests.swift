import HopGateDomain
import Testing

@Suite("DomainName")
struct DomainNameTests {
    @Test(arguments: [
        ("example.com", "example.com"),
        ("  Example.COM  ", "example.com"),
        ("example.com.", "example.com"),
        ("api.example.com:8443", "api.example.com"),
        ("EXAMPLE.com.:443", "example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("123.example.com", "123.example.com"),
        ("demo.localhost", "demo.localhost"),
    ])
    func accepts(_ input: String, _ expected: String) throws {
        #expect(try DomainName(parsing: input).value == expected)
    }

    @Test(arguments: [
        ("", DomainNameError.Code.empty),
        ("   ", .empty),
        (".", .empty),
        ("localhost", .missingDot),
        ("example..com", .emptyLabel),
        (".example.com", .emptyLabel),
        ("example.com..", .emptyLabel),
        (String(repeating: "a", count: 64) + ".com", .labelTooLong),
        ((0..<64).map { _ in "abc" }.joined(separator: "."), .nameTooLong),
        ("exa_mple.com", .invalidCharacter),
        ("bücher.de", .invalidCharacter),
        ("exa mple.com", .invalidCharacter),
        ("-example.com", .hyphenAtLabelEdge),
        ("example-.com", .hyphenAtLabelEdge),
        ("192.168.1.1", .ipLiteral),
        ("127.0.0.1:8080", .ipLiteral),
        ("[::1]", .ipLiteral),
        ("[::1]:443", .ipLiteral),
        ("::1", .ipLiteral),
        ("fe80::1", .ipLiteral),
        ("*.example.com", .wildcardNotAllowed),
        ("example.com:http", .invalidPort),
        ("example.com:", .invalidPort),
        ("example.com:70000", .invalidPort),
        ("\u{FFFD}:\u{0746}     ", .invalidPort),  // found by scripts/fuzz: ':' + combining mark is one Character
    ])
    func refuses(_ input: String, _ code: DomainNameError.Code) {
        #expect(throws: DomainNameError.self) { try DomainName(parsing: input) }
        do {
            _ = try DomainName(parsing: input)
        } catch {
            #expect(error.code == code, "\(input): got \(error.code)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func numericTopLevelLabelIsTreatedAsAnAddress() {
        #expect(throws: DomainNameError.self) { try DomainName(parsing: "example.123") }
    }

    @Test func wildcardOnlyWhenAllowedAndOnlyAsFirstLabel() throws {
        let wildcard = try DomainName(parsing: "*.Example.com", allowWildcard: true)
        #expect(wildcard.value == "*.example.com")
        #expect(wildcard.isWildcard)
        #expect(throws: DomainNameError.self) { try DomainName(parsing: "api.*.example.com", allowWildcard: true) }
        #expect(throws: DomainNameError.self) { try DomainName(parsing: "a*.example.com", allowWildcard: true) }
    }

    @Test func wildcardCoversExactlyOneLabel() throws {
        let wildcard = try DomainName(parsing: "*.example.com", allowWildcard: true)
        #expect(wildcard.covers(try DomainName(parsing: "api.example.com")))
        #expect(!wildcard.covers(try DomainName(parsing: "a.b.example.com")))
        #expect(!wildcard.covers(try DomainName(parsing: "example.com")))
        #expect(!wildcard.covers(try DomainName(parsing: "api.example.org")))
    }

    @Test func longestAcceptedNameAndLabel() throws {
        let label = String(repeating: "a", count: 63)
        #expect(try DomainName(parsing: "\(label).com").labels.first?.count == 63)
        // 4 labels of 63 + 3 dots = 255 > 253; 3 labels of 63 + "com" = 195.
        let name = [label, label, label, String(repeating: "b", count: 57)].joined(separator: ".")
        #expect(name.count == 249)
        #expect(try DomainName(parsing: name).value == name)
    }

    @Test func messagesNameTheProblem() {
        do { _ = try DomainName(parsing: "exa_mple.com") } catch {
            #expect(error.message.contains("'_'"))
            #expect(error.description.hasPrefix("invalid domain name"))
        }
    }

    @Test func decodingValidates() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode([DomainName].self, from: Data(#"["Example.com."]"#.utf8)).first?.value == "example.com")
        #expect(throws: DecodingError.self) { try decoder.decode([DomainName].self, from: Data(#"["no_dots"]"#.utf8)) }
    }
}

import Foundation
