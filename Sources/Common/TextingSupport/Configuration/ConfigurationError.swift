/// A setting that is missing or malformed. Every process checks its configuration at start
/// and exits with `description` as its one line.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable at fault, e.g. `TEXTING_PROVIDERS`.
    public let setting: String
    /// What is wrong with it and what would be right, in words a sysadmin can act on.
    public let problem: String

    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "configuration error: \(setting): \(problem)" }
}
