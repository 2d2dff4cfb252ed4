/// One upstream HopGate setting that HopGate replaces: its name, who reads it, what takes its
/// place and, when the value still makes sense, which of our settings receives it.
public struct ReplacedSetting: Sendable {
    /// The variable's name, or a family's prefix ending in `_` (`HOP_LOKI_`).
    public let name: String
    /// The programs that read it upstream (and warn about it here).
    public let programs: Set<UpstreamSettings.Program>
    /// What HopGate uses instead, naming our settings.
    public let replacement: String
    /// Our setting that receives the value, if any.
    public let carriedOver: CarriedOver?

    /// Our setting that receives an upstream value, and how the value converts to its syntax.
    public struct CarriedOver: Sendable {
        /// Our setting's name.
        public let setting: String
        /// Upstream value and upstream name → our value; throws naming the upstream setting.
        let convert: @Sendable (String, String) throws(SettingsError) -> String

        init(_ setting: String, _ convert: @escaping @Sendable (String, String) throws(SettingsError) -> String) {
            self.setting = setting
            self.convert = convert
        }
    }

    init(_ name: String, _ programs: Set<UpstreamSettings.Program>, replacement: String, carriedOver: CarriedOver? = nil) {
        self.name = name
        self.programs = programs
        self.replacement = replacement
        self.carriedOver = carriedOver
    }

    init(_ name: String, _ program: UpstreamSettings.Program, replacement: String, carriedOver: CarriedOver? = nil) {
        self.init(name, [program], replacement: replacement, carriedOver: carriedOver)
    }

    /// Whether `name` is this setting (or belongs to this family).
    public func matches(_ name: String) -> Bool {
        self.name.hasSuffix("_") ? name.hasPrefix(self.name) : name == self.name
    }
}
