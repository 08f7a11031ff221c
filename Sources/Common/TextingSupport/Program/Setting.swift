/// One environment variable, declared once: its description (name, meaning, default, who
/// reads it: what `--help`, the example settings file and the README's table print) and how
/// its text becomes a checked value. Readers call `read`, never the environment by name, so
/// what a program documents is what it reads.
public struct Setting<Value: Sendable>: Sendable {
    public let description: SettingDescription
    private let parse: @Sendable (String?) throws(ConfigurationError) -> Value

    /// `parse` gets the variable's text, nil when it is unset or empty.
    public init(_ description: SettingDescription, parse: @escaping @Sendable (String?) throws(ConfigurationError) -> Value) {
        self.description = description
        self.parse = parse
    }

    public var name: String { description.name }

    /// The checked value; a bad one is a `ConfigurationError` naming the variable.
    public func read(_ environment: EnvironmentReader) throws(ConfigurationError) -> Value {
        try parse(environment.optional(name))
    }

    /// The same setting with a further rule: `rule` turns the value into the one the program
    /// uses, or throws the error `invalid` makes of a sentence such as "must be …".
    public func checked<Checked: Sendable>(
        _ rule: @escaping @Sendable (Value, _ invalid: (String) -> ConfigurationError) throws(ConfigurationError) -> Checked
    ) -> Setting<Checked> {
        let name = name
        let parse = parse
        return Setting<Checked>(description) { text throws(ConfigurationError) in
            try rule(try parse(text)) { problem in ConfigurationError(setting: name, problem: problem) }
        }
    }
}

extension Setting where Value == Int {
    /// A whole number in `range`, `fallback` when unset. The range is part of the meaning shown.
    public static func integer(
        _ name: String, _ meaning: String, default fallback: Int, range: ClosedRange<Int>,
        readBy readers: [String], notes: String? = nil, example: String? = nil
    ) -> Setting {
        Setting(
            SettingDescription(
                name, meaning + " (\(range.lowerBound)-\(range.upperBound))", default: .value(String(fallback), example: example),
                readers: readers, notes: notes)
        ) { text throws(ConfigurationError) in
            guard let text else { return fallback }
            return try wholeNumber(name, text, range)
        }
    }
}

extension Setting where Value == Int? {
    /// A whole number in `range`, nil when unset: the reader derives the default, which
    /// `derived` describes.
    public static func integer(
        _ name: String, _ meaning: String, derived: String, example: String, range: ClosedRange<Int>,
        readBy readers: [String], notes: String? = nil
    ) -> Setting {
        Setting(
            SettingDescription(
                name, meaning + " (\(range.lowerBound)-\(range.upperBound))", default: .derived(derived, example: example),
                readers: readers, notes: notes)
        ) { text throws(ConfigurationError) in
            guard let text else { return nil }
            return try wholeNumber(name, text, range)
        }
    }
}

extension Setting where Value == String {
    /// Text that must be set; `example` is shown in the error and in the example file.
    public static func required(
        _ name: String, _ meaning: String, example: String, placeholder: String? = nil, readBy readers: [String],
        notes: String? = nil
    ) -> Setting {
        Setting(SettingDescription(name, meaning, default: .required(example: example, placeholder: placeholder), readers: readers, notes: notes)) {
            text throws(ConfigurationError) in
            guard let text else { throw ConfigurationError(setting: name, problem: "is not set; e.g. \(name)=\(example)") }
            return text
        }
    }

    /// Text, `fallback` when unset.
    public static func text(
        _ name: String, _ meaning: String, default fallback: String, readBy readers: [String],
        notes: String? = nil, example: String? = nil
    ) -> Setting {
        Setting(SettingDescription(name, meaning, default: .value(fallback, example: example), readers: readers, notes: notes)) { text in
            text ?? fallback
        }
    }
}

extension Setting where Value == String? {
    /// Text that may stay unset (nil).
    public static func optional(_ name: String, _ meaning: String, example: String, readBy readers: [String], notes: String? = nil) -> Setting {
        Setting(SettingDescription(name, meaning, default: .unset(example: example), readers: readers, notes: notes)) { text in text }
    }
}

extension Setting where Value == Bool {
    /// `on` or `off` (also true/false, 1/0, yes/no), `fallback` when unset.
    public static func onOff(_ name: String, _ meaning: String, default fallback: Bool, readBy readers: [String], notes: String? = nil) -> Setting {
        Setting(SettingDescription(name, meaning, default: .value(fallback ? "on" : "off", example: nil), readers: readers, notes: notes)) {
            text throws(ConfigurationError) in
            switch text?.lowercased() {
            case nil: return fallback
            case "on", "true", "1", "yes": return true
            case "off", "false", "0", "no": return false
            case let other?: throw ConfigurationError(setting: name, problem: "must be on or off; got `\(other)`")
            }
        }
    }
}

/// The one rule for whole-number settings.
private func wholeNumber(_ name: String, _ text: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
    guard let value = Int(text.trimmed), range.contains(value) else {
        throw ConfigurationError(setting: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound); got `\(text)`")
    }
    return value
}
