/// The hexagonal dependency rule (DESIGN.md), as a pure function over a package's targets and
/// their imports, so that it can be tested on made-up graphs as well as on this package.
///
/// It mirrors the rule of the shared `check-layout` tool: Domain imports only the standard
/// library, Foundation and swift-crypto; Ports imports Domain, Ports and a few vocabulary
/// libraries; an adapter never imports another adapter or an app; every target lives under
/// `Sources/{Domain,Ports,Adapters,Apps}` or `Tests/{Unit,Contract,Integration}`.
enum DependencyRule {
    /// One target of the package: its name, its SwiftPM type (`regular`, `executable`, `test`,
    /// …) and its path relative to the package root.
    struct Target: Sendable, Hashable {
        var name: String
        var type: String
        var path: String
    }

    /// One `import` line: the imported module, the file (relative to the package root) and the
    /// line number.
    struct Import: Sendable, Hashable, Comparable {
        var module: String
        var file: String
        var line: Int

        static func < (lhs: Import, rhs: Import) -> Bool {
            (lhs.module, lhs.file, lhs.line) < (rhs.module, rhs.file, rhs.line)
        }
    }

    /// Where a target sits in the layering.
    enum Layer: Sendable, Hashable {
        case domain, ports, adapter(String), app, tests
    }

    static let standardLibrary: Set<String> = [
        "Swift", "Foundation", "FoundationEssentials", "FoundationInternationalization",
        "Synchronization", "_Concurrency", "Glibc", "Musl", "Darwin", "os",
    ]
    static let domainExtra: Set<String> = ["Crypto", "_CryptoExtras"]
    static let portsExtra: Set<String> = [
        "Crypto", "_CryptoExtras", "Logging", "Metrics", "CoreMetrics", "ServiceLifecycle",
        "NIOCore", "HTTPTypes", "AsyncAlgorithms", "Tracing", "Instrumentation", "ServiceContextModule",
    ]

    /// The layer of a target at `path`, or nil when it lives outside the agreed folders.
    static func layer(ofPath path: String) -> Layer? {
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." }
        guard let first = parts.first else { return nil }
        if first == "Sources", parts.count > 1 {
            switch parts[1] {
            case "Domain": return .domain
            case "Ports": return .ports
            case "Adapters": return .adapter(parts.count > 2 ? parts[2] : "")
            case "Apps": return .app
            default: return nil
            }
        }
        if first == "Tests", parts.count > 1, ["Unit", "Contract", "Integration", "Benchmarks"].contains(parts[1]) {
            return .tests
        }
        if first == "Benchmarks" { return .tests }
        return nil
    }

    /// Every breach of the rule, one human-readable line each; empty when the rule holds.
    /// `imports` maps a target's name to the imports found in its sources.
    static func breaches(targets: [Target], imports: [String: [Import]]) -> [String] {
        var layers: [String: Layer] = [:]
        for target in targets {
            if let layer = layer(ofPath: target.path) { layers[target.name] = layer }
        }
        var problems: [String] = []
        for target in targets.sorted(by: { $0.name < $1.name }) {
            if ["plugin", "macro", "binary", "system"].contains(target.type) { continue }
            guard let place = layers[target.name] else {
                problems.append("\(target.name): lives at \(target.path), outside Sources/{Domain,Ports,Adapters,Apps} and Tests/{Unit,Contract,Integration}")
                continue
            }
            for found in (imports[target.name] ?? []).sorted() {
                let module = found.module
                if standardLibrary.contains(module) || module == target.name { continue }
                let other = layers[module]
                let at = "\(found.file):\(found.line)"
                switch place {
                case .domain:
                    if domainExtra.contains(module) || other == .domain { continue }
                    problems.append("\(at): Domain imports \(module); Domain stays free of I/O libraries")
                case .ports:
                    if portsExtra.contains(module) || other == .domain || other == .ports { continue }
                    problems.append("\(at): Ports imports \(module); ports speak the domain's language")
                case .adapter(let room):
                    if case .adapter(let otherRoom) = other, otherRoom != room {
                        problems.append("\(at): adapter \(room) imports adapter \(otherRoom) (\(module))")
                    } else if other == .app {
                        problems.append("\(at): adapter \(room) imports the app \(module)")
                    }
                case .app, .tests:
                    continue
                }
            }
        }
        return problems
    }

    /// The module an `import` line names, or nil when the line is not an import. Understands
    /// attributes (`@preconcurrency`, `@_spi(X)`), access levels and kind imports
    /// (`import struct Foo.Bar`).
    static func importedModule(in line: String) -> String? {
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
        while let word = words.first, word.hasPrefix("@") {
            // An attribute's arguments may contain spaces: skip up to the closing parenthesis.
            if word.contains("(") && !word.contains(")") {
                while let next = words.first, !next.contains(")") { words = words.dropFirst() }
            }
            words = words.dropFirst()
        }
        if let word = words.first, ["public", "package", "internal", "private", "fileprivate"].contains(word) {
            words = words.dropFirst()
        }
        guard words.first == "import" else { return nil }
        words = words.dropFirst()
        if let word = words.first, ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(word) {
            words = words.dropFirst()
        }
        guard let path = words.first else { return nil }
        let module = path.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard let first = module.first, first.isLetter || first == "_" else { return nil }
        return String(module)
    }
}
