/// The documents printed from setting declarations: the README's table and the example
/// settings file. Committed copies are checked against these by a test, so neither can drift
/// from what the programs read.
public enum SettingsDocument {
    /// The Markdown table: variable, who reads it (`readers` names a reader list), meaning,
    /// default.
    public static func markdownTable(_ settings: [SettingDescription], readers: ([String]) -> String) -> String {
        var lines = ["| variable | used by | meaning | default |", "| --- | --- | --- | --- |"]
        for setting in settings {
            let fallback: String
            switch setting.defaultValue {
            case .required: fallback = "required"
            case .unset: fallback = "unset"
            case .value(let value, _): fallback = "`\(value)`"
            case .derived(let text, _): fallback = text
            }
            // A `|` would end the cell: meanings are written without one (a test checks).
            lines.append("| `\(setting.name)` | \(readers(setting.readers)) | \(setting.meaning) | \(fallback) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An environment file: `header` as comment lines, then each setting with its meaning
    /// (and notes) as comments; a required one with its example value to edit, the others
    /// commented out at their default or example.
    public static func exampleFile(header: [String], _ settings: [SettingDescription], width: Int = 96) -> String {
        // A header line that starts with spaces is a command: kept as it is.
        var lines = header.flatMap { $0.hasPrefix(" ") ? ["#" + $0] : wrapped($0, width: width) }
        for setting in settings {
            lines.append("")
            var text = capitalized(setting.meaning)
            switch setting.defaultValue {
            case .required: text += "."
            case .unset: text += "; unset by default."
            case .value(let value, _): text += "; default \(value)."
            case .derived(let description, _): text += "; default \(description)."
            }
            if let notes = setting.notes { text += " " + notes }
            lines += wrapped(text, width: width)
            // A value with spaces is quoted, as both systemd's EnvironmentFile= and `. file` in a shell read it.
            let value = setting.exampleValue.contains(" ") && !setting.exampleValue.hasPrefix("\"") ? "\"\(setting.exampleValue)\"" : setting.exampleValue
            lines.append((setting.isRequired ? "" : "#") + "\(setting.name)=\(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as `# `-comment lines of at most `width` characters (a longer word stays whole).
    static func wrapped(_ text: String, width: Int) -> [String] {
        guard !text.isEmpty else { return ["#"] }
        var lines: [String] = []
        var line = "#"
        for word in text.split(separator: " ") {
            if line.count + 1 + word.count > width, line != "#" {
                lines.append(line)
                line = "#"
            }
            line += " " + word
        }
        lines.append(line)
        return lines
    }

    private static func capitalized(_ text: String) -> String {
        guard let first = text.first, first.isLowercase else { return text }
        return first.uppercased() + text.dropFirst()
    }
}
