import Foundation
import HopGatePorts
import Logging

/// Reads the operator's error pages from `HOP_ERROR_PAGES_DIR` (`400.html`, `404.html`,
/// `413.html`, `502.html`, `504.html`, as upstream HopGate names them). Every page it cannot
/// use falls back to the built-in one, with one warning: one for a missing directory, one
/// naming all the missing files, one for each page that is broken.
enum ErrorPageDirectory {
    static let setting = "HOP_ERROR_PAGES_DIR"

    /// The usable pages in `directory`.
    static func load(_ directory: String, logger: Logger) -> ErrorPageTemplates {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            logger.warning("\(setting): \(directory) is not a directory; the built-in error pages are served", metadata: ["setting": "\(setting)"])
            return .builtIn
        }
        var templates = ErrorPageTemplates()
        var missing: [String] = []
        for status in ErrorPageTemplates.statuses {
            let name = "\(status).html"
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else {
                missing.append(name)
                continue
            }
            do {
                templates.byStatus[status] = try read(path)
            } catch {
                logger.warning("\(setting): \(path) \(error); the built-in \(status) page is served instead", metadata: ["setting": "\(setting)"])
            }
        }
        if !missing.isEmpty {
            logger.warning(
                "\(setting): no \(missing.joined(separator: ", ")) in \(directory); the built-in pages are served for those",
                metadata: ["setting": "\(setting)"])
        }
        if !templates.byStatus.isEmpty {
            logger.notice("custom error pages from \(directory): \(templates.byStatus.keys.sorted().map { "\($0).html" }.joined(separator: ", "))")
        }
        return templates
    }

    /// Why a page could not be read; its description ends a sentence that starts with the path.
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    private static func read(_ path: String) throws -> ErrorPageTemplate {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReadError(description: "cannot be read") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: ErrorPageTemplate.maximumBytes + 1) ?? Data()
        } catch {
            throw ReadError(description: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ReadError(description: "is not UTF-8 text") }
        do {
            return try ErrorPageTemplate(parsing: text)
        } catch {
            throw ReadError(description: error.message)
        }
    }
}
