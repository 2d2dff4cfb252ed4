import Foundation

/// An operator's HTML page for one of the edge's own answers (`HOP_ERROR_PAGES_DIR/<status>.html`,
/// named as upstream HopGate names its pages).
///
/// The text is served as it is, except for placeholders in double braces, which are replaced
/// by the answer's values, HTML-escaped: `{{status}}` (`404`), `{{reason}}` (`Not Found`),
/// `{{message}}` and `{{message_ko}}` (what went wrong, in English and Korean) and
/// `{{request_id}}`. Spaces inside the braces are allowed (`{{ status }}`). Upstream's pages
/// have no placeholders, so they work unchanged. Parsing checks the whole text, so a page with
/// an unknown placeholder or an unclosed `{{` is refused at start-up, not when it is needed.
public struct ErrorPageTemplate: Sendable, Hashable {
    /// A value a page may show.
    public enum Placeholder: String, Sendable, Hashable, CaseIterable {
        case status
        case reason
        case message
        case messageKorean = "message_ko"
        case requestID = "request_id"
    }

    enum Piece: Sendable, Hashable {
        case text(String)
        case value(Placeholder)
    }

    /// The largest page accepted, in bytes.
    public static let maximumBytes = 256 * 1024

    let pieces: [Piece]

    /// Parses `text`. - Throws: ``ErrorPageTemplateError`` describing what is wrong and where.
    public init(parsing text: String) throws(ErrorPageTemplateError) {
        guard text.utf8.count <= Self.maximumBytes else {
            throw ErrorPageTemplateError(.tooLarge, "is larger than \(Self.maximumBytes / 1024) KiB")
        }
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw ErrorPageTemplateError(.unclosedPlaceholder, "has a '{{' without '}}' at line \(Self.line(of: open.lowerBound, in: text))")
            }
            let name = afterOpen[..<close.lowerBound].trimmingSpaces()
            guard let placeholder = Placeholder(rawValue: name) else {
                let known = Placeholder.allCases.map { "{{\($0.rawValue)}}" }.joined(separator: ", ")
                throw ErrorPageTemplateError(
                    .unknownPlaceholder, "has the unknown placeholder '{{\(name.prefix(40))}}' at line \(Self.line(of: open.lowerBound, in: text)); known: \(known)")
            }
            pieces.append(.value(placeholder))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    /// The page with every placeholder replaced by its value in `values`, HTML-escaped (a
    /// missing value becomes empty).
    public func render(_ values: [Placeholder: String]) -> String {
        var page = ""
        for piece in pieces {
            switch piece {
            case .text(let text): page += text
            case .value(let placeholder): page += HTMLText.escaped(values[placeholder] ?? "")
            }
        }
        return page
    }

    private static func line(of index: String.Index, in text: String) -> Int {
        text[..<index].utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}

/// Why an error page template was refused. Equal when their codes are.
public struct ErrorPageTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable { case tooLarge, unclosedPlaceholder, unknownPlaceholder }
        private let value: Value

        /// The page is larger than ``ErrorPageTemplate/maximumBytes``.
        public static let tooLarge = Code(value: .tooLarge)
        /// A `{{` has no `}}` after it.
        public static let unclosedPlaceholder = Code(value: .unclosedPlaceholder)
        /// A placeholder names no ``ErrorPageTemplate/Placeholder``.
        public static let unknownPlaceholder = Code(value: .unknownPlaceholder)

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// What is wrong, as the end of a sentence that starts with the file's name.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
