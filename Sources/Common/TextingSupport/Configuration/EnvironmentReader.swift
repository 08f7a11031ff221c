import Glibc

/// The environment variables (an `EnvironmentFile=` under systemd) a program reads its
/// settings from. Programs read a setting through its declaration (`Setting.read`), which
/// turns a bad value into a `ConfigurationError` naming the variable.
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
}
