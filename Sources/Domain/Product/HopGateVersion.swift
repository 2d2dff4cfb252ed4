/// The one version of HopGate that both executables report (`--version`, the tunnel's
/// hello and welcome messages).
public enum HopGateVersion {
    /// The release these sources build.
    public static let current = "0.1.0"
}
