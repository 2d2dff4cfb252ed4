import Testing

/// The project checks its own architecture: these tests run wherever the package is cloned,
/// with no tool from outside the repository.
@Suite("Dependency rule")
struct DependencyRuleTests {
    typealias Target = DependencyRule.Target
    typealias Import = DependencyRule.Import

    static let graph: [Target] = [
        Target(name: "Core", type: "regular", path: "Sources/Domain"),
        Target(name: "Rules", type: "regular", path: "Sources/Ports"),
        Target(name: "Store", type: "regular", path: "Sources/Adapters/Store"),
        Target(name: "Wire", type: "regular", path: "Sources/Adapters/Wire"),
        Target(name: "Server", type: "executable", path: "Sources/Apps/server"),
        Target(name: "Checks", type: "test", path: "Tests/Unit"),
    ]

    static func imports(_ target: String, _ modules: String...) -> [String: [Import]] {
        [target: modules.enumerated().map { Import(module: $1, file: "\(target).swift", line: $0 + 1) }]
    }

    @Test func thisPackageFollowsTheRule() async throws {
        let root = try PackageGraph.packageRoot()
        let graph = try await PackageGraph.read(root: root)
        #expect(graph.targets.contains { $0.name == "HopGateDomain" && $0.path == "Sources/Domain" })
        #expect(graph.imports["HopGatePorts"]?.contains { $0.module == "HopGateDomain" } == true)
        let breaches = DependencyRule.breaches(targets: graph.targets, imports: graph.imports)
        #expect(breaches.isEmpty, "\(breaches.joined(separator: "\n"))")
    }

    @Test func aCleanGraphPasses() {
        var imports = Self.imports("Core", "Foundation", "Crypto")
        imports.merge(Self.imports("Rules", "Core", "Logging", "NIOCore")) { $1 }
        imports.merge(Self.imports("Store", "Rules", "Core", "PostgresNIO")) { $1 }
        imports.merge(Self.imports("Server", "Store", "Wire", "Rules")) { $1 }
        imports.merge(Self.imports("Checks", "Store", "Wire", "Server")) { $1 }
        #expect(DependencyRule.breaches(targets: Self.graph, imports: imports).isEmpty)
    }

    @Test(arguments: [
        ("Core", "NIOCore", "Domain imports NIOCore"),
        ("Core", "Rules", "Domain imports Rules"),
        ("Core", "Store", "Domain imports Store"),
        ("Rules", "Store", "Ports imports Store"),
        ("Rules", "PostgresNIO", "Ports imports PostgresNIO"),
        ("Store", "Wire", "adapter Store imports adapter Wire"),
        ("Store", "Server", "adapter Store imports the app Server"),
    ])
    func aBreachIsReported(_ target: String, _ module: String, _ expected: String) {
        let breaches = DependencyRule.breaches(targets: Self.graph, imports: Self.imports(target, module))
        #expect(breaches.count == 1)
        #expect(breaches.first?.contains(expected) == true, "\(breaches)")
        #expect(breaches.first?.hasPrefix("\(target).swift:1:") == true)
    }

    @Test func aTargetOutsideTheLayersIsReported() {
        let stray = Target(name: "Misc", type: "regular", path: "Sources/Misc")
        let breaches = DependencyRule.breaches(targets: Self.graph + [stray], imports: [:])
        #expect(breaches == ["Misc: lives at Sources/Misc, outside Sources/{Domain,Ports,Adapters,Apps} and Tests/{Unit,Contract,Integration}"])
    }

    @Test(arguments: [
        ("import Foundation", "Foundation"),
        ("public import HopGatePorts", "HopGatePorts"),
        ("  package import GRPCCore", "GRPCCore"),
        ("@preconcurrency import Dispatch", "Dispatch"),
        ("@_spi(Testing) public import NIOCore", "NIOCore"),
        ("@_spi(Some Thing) internal import NIOCore", "NIOCore"),
        ("import struct NIOCore.ByteBuffer", "NIOCore"),
        ("import HopGateDomain // the rules", "HopGateDomain"),
    ])
    func importLinesAreRead(_ line: String, _ module: String) {
        #expect(DependencyRule.importedModule(in: line) == module)
    }

    @Test(arguments: ["/// import Foo", "let x = 1", "importance = 2", "// import Foo", "import"])
    func otherLinesAreNotImports(_ line: String) {
        #expect(DependencyRule.importedModule(in: line) == nil)
    }
}
