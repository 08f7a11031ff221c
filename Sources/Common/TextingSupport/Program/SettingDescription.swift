/// What a person needs to know of one environment variable: the part of a `Setting` that
/// `--help`, the example settings file and the README's table print.
public struct SettingDescription: Sendable, Equatable {
    /// The value used when the variable is unset.
    public enum Default: Sendable, Equatable {
        /// The program refuses to start without it; `example` is a value of the right shape,
        /// `placeholder` what the example settings file shows when that differs (an empty
        /// secret the operator must fill in).
        case required(example: String, placeholder: String? = nil)
        /// This value; `example`, when given, is what the example file suggests instead.
        case value(String, example: String?)
        /// Nothing: unset has a meaning of its own (told by the meaning).
        case unset(example: String)
        /// Computed from other settings, as the text says.
        case derived(String, example: String)
    }

    /// The variable, e.g. `TEXTING_DATABASE_URL`.
    public let name: String
    /// What it means, in one line.
    public let meaning: String
    public let defaultValue: Default
    /// The programs that read it, by name (`MessagesFCGI`, `SenderCron`, …).
    public let readers: [String]
    /// More for the operator (the example settings file prints it under the meaning).
    public let notes: String?

    public init(_ name: String, _ meaning: String, default defaultValue: Default, readers: [String], notes: String? = nil) {
        self.name = name
        self.meaning = meaning
        self.defaultValue = defaultValue
        self.readers = readers
        self.notes = notes
    }

    /// The default as `--help` and the README say it: `required`, `unset`, or the value.
    public var defaultText: String {
        switch defaultValue {
        case .required: "required"
        case .value(let value, _): value
        case .unset: "unset"
        case .derived(let text, _): text
        }
    }

    /// The value the example settings file shows.
    public var exampleValue: String {
        switch defaultValue {
        case .required(let example, let placeholder): placeholder ?? example
        case .unset(let example), .derived(_, let example): example
        case .value(let value, let example): example ?? value
        }
    }

    public var isRequired: Bool {
        if case .required = defaultValue { return true }
        return false
    }
}
