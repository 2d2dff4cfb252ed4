import Foundation

/// Reads this package's targets (`swift package dump-package`) and the `import` lines of their
/// sources, for ``DependencyRule``.
struct PackageGraph {
    var targets: [DependencyRule.Target]
    var imports: [String: [DependencyRule.Import]]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The package root: the nearest folder above this file that holds `Package.swift`.
    static func packageRoot(from file: String = #filePath) throws -> URL {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder }
            folder.deleteLastPathComponent()
        }
        throw Failure(description: "no Package.swift above \(file)")
    }

    /// The graph of the package at `root`. The manifest is evaluated in a scratch folder of its
    /// own so that a running `swift build` or `swift test` (which holds `.build`) does not block it.
    /// Evaluating it compiles the manifest (seconds): the process is awaited, never waited for on
    /// a thread, because a blocked cooperative thread on a two-core machine stalls every other
    /// test of the run for as long.
    static func read(root: URL) async throws -> PackageGraph {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputFile = scratch.appendingPathComponent("package.json")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--scratch-path", scratch.appendingPathComponent("build").path, "dump-package"]
        process.currentDirectoryURL = root
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { finished in
            process.terminationHandler = { finished.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                finished.resume(throwing: error)
            }
        }
        try output.close()
        guard status == 0 else {
            throw Failure(description: "swift package dump-package exited with \(status)")
        }
        let data = try Data(contentsOf: outputFile)
        struct Manifest: Decodable {
            struct Target: Decodable { var name: String; var type: String; var path: String? }
            var targets: [Target]
        }
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        var targets: [DependencyRule.Target] = []
        var imports: [String: [DependencyRule.Import]] = [:]
        for target in manifest.targets {
            let path = target.path ?? "\(target.type == "test" ? "Tests" : "Sources")/\(target.name)"
            targets.append(.init(name: target.name, type: target.type, path: path))
            imports[target.name] = try scanImports(root: root, path: path)
        }
        return PackageGraph(targets: targets, imports: imports)
    }

    /// The imports of every `.swift` file under `path`.
    static func scanImports(root: URL, path: String) throws -> [DependencyRule.Import] {
        let folder = root.appendingPathComponent(path)
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        var found: [DependencyRule.Import] = []
        for case let file as URL in walker where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            let relative = String(file.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if let module = DependencyRule.importedModule(in: String(line)) {
                    found.append(.init(module: module, file: relative, line: number + 1))
                }
            }
        }
        return found
    }
}
