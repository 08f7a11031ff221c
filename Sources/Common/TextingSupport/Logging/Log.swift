import Glibc

/// One-line logs on standard error, which systemd's journal and `make run` both collect.
/// Never log phone numbers or message bodies.
public enum Log {
    public static func info(_ message: String) { write("info", message) }
    public static func warning(_ message: String) { write("warning", message) }
    public static func error(_ message: String) { write("error", message) }

    private static func write(_ level: String, _ message: String) {
        // One write(2) per line keeps lines from different threads whole. Whatever a message
        // quotes (a provider's answer, a curl error) cannot start a line of its own.
        var line = Array("\(programName) \(level): \(SafeText.escaped(message, maximumBytes: maximumMessageBytes))\n".utf8)
        _ = line.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// The most of one message that is logged: a line per event, never a flood.
    static let maximumMessageBytes = 8192

    /// The executable's name, for the log prefix (worked out once: every request logs a line).
    public static let programName: String = {
        let path = CommandLine.arguments.first ?? "texting"
        return path.split(separator: "/").last.map(String.init) ?? path
    }()
}
