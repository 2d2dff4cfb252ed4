import Testing
@Test func placeholderI() { #expect(1 == 1) }
