import Glibc

/// What an executable is, how it is run and which settings it reads: the text of its
/// `--help`, and the handling of the arguments every executable takes (`--help`, `-h`,
/// `--version`), so that the five executables answer them alike.
public struct ProgramDescription: Sendable {
    /// The executable's name, e.g. `MessagesFCGI`.
    public let name: String
    /// What it is, one sentence.
    public let summary: String
    /// Usage lines without the program name's `usage:` prefix, e.g. `SenderCron [--once]`.
    public let usage: [String]
    /// Paragraphs after the usage: how it runs, how it stops.
    public let details: [String]
    /// Options besides `--help` and `--version` (name, meaning).
    public let options: [(name: String, meaning: String)]
    /// The environment variables it reads.
    public let settings: [SettingDescription]
    /// True for a program whose first argument is a command (textingctl): only that first
    /// argument can ask for help or the version, and the program reads the rest itself.
    public let takesCommands: Bool

    public init(
        name: String, summary: String, usage: [String], details: [String] = [],
        options: [(name: String, meaning: String)] = [], settings: [SettingDescription],
        takesCommands: Bool = false
    ) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.details = details
        self.options = options
        self.settings = settings
        self.takesCommands = takesCommands
    }

    /// What the command line asks for.
    public enum Request: Equatable, Sendable {
        /// Run the program.
        case run
        case help
        case version
        /// An argument the program does not take.
        case unknownArgument(String)
    }

    /// Reads the arguments (without the program's own path).
    public func request(for arguments: [String]) -> Request {
        if takesCommands {
            switch arguments.first {
            case nil, "--help", "-h", "help": return .help
            case "--version": return .version
            default: return .run
            }
        }
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help }
        if arguments.contains("--version") { return .version }
        let known = Set(options.map(\.name))
        if let unknown = arguments.first(where: { !known.contains($0) }) { return .unknownArgument(unknown) }
        return .run
    }

    /// `NAME VERSION`, what `--version` prints.
    public var versionText: String { "\(name) \(TextingVersion.current)" }

    /// What `--help` prints.
    public var helpText: String {
        var lines = ["\(name) \(TextingVersion.current): \(summary)", ""]
        for (index, line) in usage.enumerated() {
            lines.append((index == 0 ? "usage: " : "       ") + line)
        }
        lines.append("       \(name) --help | --version")
        for paragraph in details {
            lines.append("")
            lines.append(paragraph)
        }
        if !options.isEmpty {
            lines.append("")
            lines.append("options:")
            let width = options.map(\.name.count).max() ?? 0
            for option in options {
                lines.append("  " + option.name.padded(to: width) + "  " + option.meaning)
            }
        }
        lines.append("")
        if settings.isEmpty {
            lines.append("settings: none")
        } else {
            lines.append("settings (environment variables; under systemd from EnvironmentFile=/etc/texting/texting.env):")
            let width = settings.map(\.name.count).max() ?? 0
            for setting in settings {
                let fallback = setting.isRequired ? "required" : "default: \(setting.defaultText)"
                lines.append("  " + setting.name.padded(to: width) + "  " + setting.meaning + " (" + fallback + ")")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Answers `--help` and `--version` on standard output and exits 0; an argument the
    /// program does not take ends it with one line and status 2. Returns when it should run.
    public func handleCommandLine(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        switch request(for: arguments) {
        case .run:
            return
        case .help:
            print(helpText)
            exit(0)
        case .version:
            print(versionText)
            exit(0)
        case .unknownArgument(let argument):
            Log.error("unknown argument `\(argument.prefix(80))`; see `\(name) --help`")
            exit(2)
        }
    }
}

private extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
