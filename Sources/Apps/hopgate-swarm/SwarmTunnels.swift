import HopGateDomain
import Synchronization

/// The tunnels a swarm holds: one domain and its client API key per line of its file.
struct SwarmTunnels {
    struct Pair {
        let domain: DomainName
        let key: String
    }

    /// Why a tunnels file was refused; names the line, never the key.
    struct FileError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses `DOMAIN KEY` lines; blank lines and `#` comments are skipped.
    static func parse(_ text: String, file: String) throws -> [Pair] {
        var pairs: [Pair] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            guard fields.count == 2 else {
                throw FileError(description: "\(file):\(number + 1): expected DOMAIN KEY, found \(fields.count) field(s)")
            }
            do {
                pairs.append(Pair(domain: try DomainName(parsing: String(fields[0])), key: String(fields[1])))
            } catch {
                throw FileError(description: "\(file):\(number + 1): \(error)")
            }
        }
        guard !pairs.isEmpty else { throw FileError(description: "\(file): no tunnels listed") }
        return pairs
    }
}

/// Counts the tunnels welcomed at least once.
final class SwarmProgress: Sendable {
    private struct State {
        var welcomed: Set<Int> = []
        var announced = false
    }

    private let total: Int
    private let state = Mutex(State())

    init(total: Int) { self.total = total }

    /// Records that tunnel `index` was welcomed; returns true exactly once, when the last of
    /// them first was.
    func welcomed(_ index: Int) -> Bool {
        state.withLock { state in
            state.welcomed.insert(index)
            guard !state.announced, state.welcomed.count == total else { return false }
            state.announced = true
            return true
        }
    }
}
