import Synchronization

/// The operator's error pages by status code; a status without one gets the built-in page.
public struct ErrorPageTemplates: Sendable, Hashable {
    /// The statuses the edge answers with a page of its own, so the ones a page may replace.
    public static let statuses = [400, 404, 413, 502, 504]

    /// Templates by status code.
    public var byStatus: [Int: ErrorPageTemplate]

    public init(_ byStatus: [Int: ErrorPageTemplate] = [:]) {
        self.byStatus = byStatus
    }

    /// The template for `status`, if the operator gave one.
    public func template(for status: Int) -> ErrorPageTemplate? { byStatus[status] }

    /// No custom pages: the built-in ones everywhere.
    public static let builtIn = ErrorPageTemplates()

    /// The pages ``ErrorPage/response(for:requestID:templates:)`` uses when it is given none.
    /// The server installs them once at start-up, before it serves anything.
    public static var installed: ErrorPageTemplates { current.withLock { $0 } }

    /// Makes `templates` the pages served from now on.
    public static func install(_ templates: ErrorPageTemplates) {
        current.withLock { $0 = templates }
    }

    // A process-wide setting because the edge's pages are static values (`ErrorPage.noTunnel`, …)
    // that the router picks; read under a lock only when an error page is served.
    private static let current = Mutex(ErrorPageTemplates.builtIn)
}
