import HTTPTypes

extension PublicRequestRouter {
    static let strictTransportSecurityField = HTTPField.Name("Strict-Transport-Security")!

    /// Adds ``Configuration/strictTransportSecurity`` to a registered domain's response head
    /// when the public client used HTTPS. A value the local service set itself stays.
    func addStrictTransportSecurity(to head: inout HTTPResponse, scheme: String) {
        Self.addStrictTransportSecurity(configuration.strictTransportSecurity, to: &head, scheme: scheme)
    }

    /// Adds `value` (when set) as `Strict-Transport-Security` to `head` over HTTPS, unless the
    /// head has its own.
    static func addStrictTransportSecurity(_ value: String?, to head: inout HTTPResponse, scheme: String) {
        guard scheme == "https", let value, head.headerFields[strictTransportSecurityField] == nil else { return }
        head.headerFields[strictTransportSecurityField] = value
    }
}
