import HTTPTypes

extension PublicRequestRouter {
    static let strictTransportSecurityField = HTTPField.Name("Strict-Transport-Security")!

    /// Adds ``Configuration/strictTransportSecurity`` to a registered domain's response head
    /// when the public client used HTTPS. A value the local service set itself stays.
    func addStrictTransportSecurity(to head: inout HTTPResponse, scheme: String) {
        guard scheme == "https", let value = configuration.strictTransportSecurity,
              head.headerFields[Self.strictTransportSecurityField] == nil
        else { return }
        head.headerFields[Self.strictTransportSecurityField] = value
    }
}
