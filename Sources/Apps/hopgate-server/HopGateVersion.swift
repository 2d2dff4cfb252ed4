/// The version both executables report (`--version`, tunnel hello/welcome).
enum HopGateVersion {
    static let current = "0.1.0"
}
