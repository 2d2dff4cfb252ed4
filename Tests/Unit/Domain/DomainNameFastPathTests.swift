@testable import HopGateDomain
import Testing

/// `DomainName(parsing:)` takes a one-pass fast path for names that are already normalised (the
/// `Host` of nearly every request). It must answer exactly as the general parse does, for every
/// input: the same value, or the same error.
@Suite("DomainName fast path")
struct DomainNameFastPathTests {
    /// Names built from awkward labels, separators, ports and padding.
    static let corpus: [String] = {
        let labels = ["a", "ab", "a-b", "xn--bcher-kva", "123", "0", "-a", "a-", "A", "", "*", "a_b", "ü",
                      String(repeating: "a", count: 63), String(repeating: "b", count: 64)]
        let ports = ["", ":", ":0", ":443", ":00080", ":65535", ":65536", ":123456", ":44a", "::1", ":1:2"]
        var names: [String] = []
        for first in labels {
            for second in labels {
                names.append(first + "." + second)
                names.append(first + "." + second + ".com")
                names.append(first)
            }
        }
        names += [String(repeating: "abc.", count: 63) + "com", String(repeating: "a.", count: 126) + "ab",
                  String(repeating: "a.", count: 126) + "abc", "192.168.1.1", "1.2.3.4.5", "example.com.", "example.com.."]
        var inputs: [String] = []
        for name in names {
            for port in ports {
                inputs.append(name + port)
            }
            inputs += [" " + name, name + " ", name + ".", "[" + name + "]"]
        }
        return inputs
    }()

    @Test("every input gets the general parse's value or error")
    func fastPathAgreesWithTheGeneralParse() {
        var taken = 0
        for input in Self.corpus {
            let general = Result { () throws(DomainNameError) in try DomainName(normalising: input, allowWildcard: false) }
            let parsed = Result { () throws(DomainNameError) in try DomainName(parsing: input) }
            if let fast = DomainName.alreadyNormalised(input) {
                taken += 1
                #expect(fast == (try? general.get())?.value, "fast path took \(input.debugDescription) as \(fast)")
            }
            switch (parsed, general) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(input.debugDescription)")
            case (.failure(let a), .failure(let b)): #expect(a == b, "\(input.debugDescription)")
            default: Issue.record("\(input.debugDescription): \(parsed) against \(general)")
            }
        }
        // The corpus exercises the fast path, and leaves plenty to the general one.
        #expect(taken > 300 && taken < Self.corpus.count / 4, "\(taken) of \(Self.corpus.count)")
    }

    @Test("a name with a port is taken without it; one that needs normalising is left to the general parse")
    func shapes() {
        #expect(DomainName.alreadyNormalised("api.example.com:8443") == "api.example.com")
        #expect(DomainName.alreadyNormalised("api.example.com") == "api.example.com")
        for input in ["Api.example.com", " api.example.com", "api.example.com.", "*.example.com", "example.123", "localhost"] {
            #expect(DomainName.alreadyNormalised(input) == nil, "\(input)")
        }
    }
}
