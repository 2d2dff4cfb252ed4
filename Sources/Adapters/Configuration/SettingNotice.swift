/// A warning about one `HOP_*` setting, reported once at start and by `check-config`: an
/// upstream HopGate setting that HopGate replaces, or a name HopGate does not know.
/// It names settings only; it never contains a value (values may be secrets).
public struct SettingNotice: Sendable, Hashable, CustomStringConvertible {
    /// The setting's name.
    public let name: String
    /// One sentence that starts with the name and says what happens to it.
    public let message: String

    public var description: String { message }

    /// An upstream setting: what replaces it, and whether its value is used.
    static func replaced(_ name: String, by setting: ReplacedSetting, in settings: Settings) -> SettingNotice {
        var message = "\(name) is an upstream HopGate setting; HopGate replaces it with \(setting.replacement)"
        if let carried = setting.carriedOver {
            message += settings.string(carried.setting) == nil
                ? "; its value is used as \(carried.setting) (rename it)"
                : "; it is ignored because \(carried.setting) is set"
        } else {
            message += "; it is ignored"
        }
        return SettingNotice(name: name, message: message)
    }

    /// A `HOP_*` name that is neither HopGate's nor upstream's.
    static func unknown(_ name: String) -> SettingNotice {
        SettingNotice(name: name, message: "\(name) is not a HopGate setting (a typo?); it is ignored")
    }
}
