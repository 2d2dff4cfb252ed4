import Testing
@Test func placeholderC() { #expect(1 == 1) }
