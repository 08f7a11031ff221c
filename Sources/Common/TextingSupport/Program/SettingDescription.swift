/// One environment variable a program reads, as `--help` lists it.
public struct SettingDescription: Sendable, Equatable {
    /// The variable, e.g. `TEXTING_DATABASE_URL`.
    public let name: String
    /// What it means, in one line.
    public let meaning: String
    /// The value used when it is unset; nil when the setting is required.
    public let defaultValue: String?

    public init(_ name: String, _ meaning: String, default defaultValue: String?) {
        self.name = name
        self.meaning = meaning
        self.defaultValue = defaultValue
    }
}
