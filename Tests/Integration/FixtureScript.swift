import Foundation

/// The path of a helper script in `Tests/Integration/Fixtures` (python clients and servers the
/// integration tests drive), e.g. `fixtureScript("hostile_http2.py")`.
func fixtureScript(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}
