import HTTPTypes
import HopGatePorts
import Testing

/// `HTTPFields(presized:)` keeps every field, in order, duplicates included: the same fields as
/// `HTTPFields(_:)` makes.
@Suite("Presized HTTP fields")
struct PresizedFieldsTests {
    @Test func sameFieldsAsTheUsualInitializer() {
        let fields: [HTTPField] = [
            HTTPField(name: .userAgent, value: "curl/8"),
            HTTPField(name: .accept, value: "*/*"),
            HTTPField(name: .cookie, value: "a=1"),
            HTTPField(name: .cookie, value: "b=2"),
            HTTPField(name: HTTPField.Name("X-Custom")!, value: "x"),
        ]
        let presized = HTTPFields(presized: fields)
        #expect(presized == HTTPFields(fields))
        #expect(Array(presized) == fields)
        #expect(presized[values: .cookie] == ["a=1", "b=2"])
        #expect(HTTPFields(presized: [HTTPField]()).isEmpty)
    }
}
