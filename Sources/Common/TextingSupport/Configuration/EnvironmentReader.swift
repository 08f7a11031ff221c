import Glibc

/// Reads settings from environment variables (an `EnvironmentFile=` under systemd) and turns
/// every bad value into a `ConfigurationError` naming the variable.
public struct EnvironmentReader: Sendable {
    private let values: [String: String]

    /// Reads the process environment.
    public init() {
        var values: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        self.values = values
    }

    /// A fixed set of values, for tests.
    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The value, nil when unset or empty.
    public func optional(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func required(_ name: String, example: String) throws(ConfigurationError) -> String {
        guard let value = optional(name) else {
            throw ConfigurationError(setting: name, problem: "is not set; e.g. \(name)=\(example)")
        }
        return value
    }

    public func string(_ name: String, default fallback: String) -> String {
        optional(name) ?? fallback
    }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = optional(name) else { return fallback }
        guard let value = Int(text.trimmed), range.contains(value) else {
            throw ConfigurationError(setting: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound); got `\(text)`")
        }
        return value
    }
}
