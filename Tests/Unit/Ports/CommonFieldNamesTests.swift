import HTTPTypes
@testable import HopGatePorts
import Testing

/// The table of common field names: found only for exact spellings, and the same name as
/// `HTTPField.Name(_:)` makes.
@Suite("Common field names")
struct CommonFieldNamesTests {
    @Test("usual and lower-cased spellings give the name HTTPField.Name(_:) makes, spelling kept")
    func found() throws {
        for spelling in ["Content-Type", "content-type", "ETag", "etag", "X-Real-IP", "x-real-ip", "TE", "te", "Strict-Transport-Security", "Host"] {
            let name = try #require(CommonFieldNames.name(spelled: spelling), "\(spelling)")
            let made = try #require(HTTPField.Name(spelling))
            #expect(name.rawName == spelling)
            #expect(name.rawName == made.rawName && name.canonicalName == made.canonicalName)
            var bytes = spelling
            let fromBytes = bytes.withUTF8 { CommonFieldNames.name(spelled: UnsafeRawBufferPointer($0)) }
            #expect(fromBytes?.rawName == spelling)
        }
    }

    @Test("other spellings, other names, empty and overlong names are left to the caller")
    func notFound() {
        for spelling in ["CONTENT-TYPE", "Content-type", "Content-Typf", "X-Custom", "", "h", String(repeating: "a", count: 200), "Content-Type "] {
            #expect(CommonFieldNames.name(spelled: spelling) == nil, "\(spelling)")
        }
    }

    @Test("every spelling in the table is found, and no spelling one byte off")
    func everySpellingAndNeighbours() throws {
        for spelling in CommonFieldNames.spellings.flatMap({ [$0, $0.lowercased()] }) {
            #expect(CommonFieldNames.name(spelled: spelling)?.rawName == spelling, "\(spelling)")
            let bytes = Array(spelling.utf8)
            for index in bytes.indices {
                var changed = bytes
                changed[index] ^= 0x01
                let found = changed.withUnsafeBytes { CommonFieldNames.name(spelled: $0) }
                #expect(found == nil || found?.rawName != spelling, "\(spelling) changed at \(index)")
            }
            let longer = (bytes + [UInt8(ascii: "x")]).withUnsafeBytes { CommonFieldNames.name(spelled: $0) }
            #expect(longer == nil, "\(spelling)x")
        }
    }
}
