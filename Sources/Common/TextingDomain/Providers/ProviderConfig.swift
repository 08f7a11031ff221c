import TextingSupport

/// One SMS provider the sender may use, as configured by the sysadmin.
public struct ProviderConfig: Sendable, Equatable {
    /// Short identifier recorded with each attempt, so logs and rows say who was tried.
    public let name: String
    /// The provider's send endpoint.
    public let url: String
    /// Relative share of traffic; see ``SmoothWeightedRoundRobin``.
    public let weight: Int
    /// The contracted rate, in messages per second, that every sender together stays under;
    /// nil: no limit.
    public let tps: Double?
    /// The E.164 prefixes (`+` and 1 to 15 digits) of the numbers it accepts; empty: every number.
    public let prefixes: [String]
    /// What one segment sent through it costs (in the currency of the contract); nil: not known.
    public let cost: Double?

    public init(name: String, url: String, weight: Int, tps: Double? = nil, prefixes: [String] = [], cost: Double? = nil) {
        self.name = name
        self.url = url
        self.weight = weight
        self.tps = tps
        self.prefixes = prefixes
        self.cost = cost
    }

    /// The longest of its prefixes `number` starts with (`""` for a provider that takes every
    /// number), or nil when it does not take the number.
    public func matchedPrefix(of number: String) -> String? {
        guard !prefixes.isEmpty else { return "" }
        return prefixes.filter { number.hasPrefix($0) }.max { $0.count < $1.count }
    }

    /// Whether one of `providers` takes `number` (the balancer's `noRoute` otherwise).
    public static func someone(of providers: [ProviderConfig], takes number: String) -> Bool {
        providers.contains { $0.matchedPrefix(of: number) != nil }
    }

    /// Parses `TEXTING_PROVIDERS` strictly, so a typo stops the process at start-up instead
    /// of silently dropping a provider or skewing traffic.
    ///
    /// Format: comma-separated `name=url` entries, each optionally followed by `;weight=N`
    /// (1...1000, default 1), `;tps=N` (messages per second, 0.1...100000; default: no
    /// limit), `;prefixes=+1,+44` (the E.164 prefixes it accepts, `+` and 1 to 15 digits each,
    /// separated by `,`, `|` or a space; default: every number) and `;cost=N`
    /// (per segment, 0...1000; default: unknown). URLs containing `,` or `;` are not supported.
    public static func parseList(_ text: String) throws(ConfigurationError) -> [ProviderConfig] {
        guard !trimmed(text).isEmpty else {
            throw failure("no providers are configured")
        }
        var providers: [ProviderConfig] = []
        for (position, rawEntry) in entries(of: text).enumerated() {
            let entry = trimmed(rawEntry)
            let provider = try parseEntry(entry, position: position + 1)
            guard !providers.contains(where: { $0.name == provider.name }) else {
                throw failure("entry `\(entry)` repeats the provider name `\(provider.name)`; names must be unique")
            }
            providers.append(provider)
        }
        return providers
    }

    private static let expectedFormat =
        "expected comma-separated `name=url` entries, each optionally followed by `;weight=N`, `;tps=N`, `;prefixes=+1,+44` "
        + "and `;cost=N`, e.g. `p1=http://127.0.0.1:9101/send;weight=30,p2=http://127.0.0.1:9102/send;weight=70;tps=200;prefixes=+1;cost=0.0075`"

    private static let weightRange = 1...1000
    public static let tpsRange = 0.1...100_000.0
    public static let costRange = 0.0...1000.0
    /// What may stand between two of `;prefixes=` (a `+` alone also starts the next one).
    private static let prefixSeparators: Set<Character> = [",", "|", " "]

    private static func failure(_ what: String) -> ConfigurationError {
        ConfigurationError(setting: "TEXTING_PROVIDERS", problem: "\(what); \(expectedFormat).")
    }

    private static func parseEntry(_ entry: String, position: Int) throws(ConfigurationError) -> ProviderConfig {
        guard !entry.isEmpty else {
            throw failure("entry \(position) is empty")
        }
        guard let equals = entry.firstIndex(of: "=") else {
            throw failure("entry `\(entry)` has no `=` between name and URL")
        }
        let name = trimmed(entry[..<equals])
        let parts = entry[entry.index(after: equals)...].split(separator: ";", omittingEmptySubsequences: false)
        let url = trimmed(parts[0])

        guard isValidName(name) else {
            throw failure("entry `\(entry)` has the name `\(name)`; a name is 1 to 32 letters, digits, `_` or `-`")
        }
        guard isValidURL(url) else {
            throw failure("entry `\(entry)` has the URL `\(url)`; it must be an http:// or https:// URL with a host")
        }

        var weight: Int?
        var tps: Double?
        var prefixes: [String] = []
        var cost: Double?
        var given: Set<String> = []
        for rawParameter in parts.dropFirst() {
            let parameter = trimmed(rawParameter)
            let key = String(parameter.prefix { $0 != "=" })
            guard Self.parameters.contains(key), parameter.count > key.count else {
                throw failure(
                    "entry `\(entry)` has the unknown parameter `\(parameter)`; only `weight=N`, `tps=N`, `prefixes=+N,+N` and `cost=N` are allowed")
            }
            guard given.insert(key).inserted else {
                throw failure("entry `\(entry)` gives `\(key)` more than once")
            }
            let value = trimmed(parameter.dropFirst(key.count + 1))
            let digits = !value.isEmpty && value.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || $0 == "." }
            switch key {
            case "weight":
                guard digits, let number = Int(value), weightRange.contains(number) else {
                    throw failure(
                        "entry `\(entry)` has the weight `\(value)`; a weight is a whole number from "
                            + "\(weightRange.lowerBound) to \(weightRange.upperBound)"
                    )
                }
                weight = number
            case "tps":
                guard digits, let number = Double(value), tpsRange.contains(number) else {
                    throw failure("entry `\(entry)` has the tps `\(value)`; a rate is a number of messages per second from 0.1 to 100000")
                }
                tps = number
            case "cost":
                guard digits, let number = Double(value), costRange.contains(number) else {
                    throw failure("entry `\(entry)` has the cost `\(value)`; a cost per segment is a number from 0 to 1000, e.g. 0.0075")
                }
                cost = number
            default:
                prefixes = try parsePrefixes(value, entry: entry)
            }
        }
        return ProviderConfig(name: name, url: url, weight: weight ?? 1, tps: tps, prefixes: prefixes, cost: cost)
    }

    private static let parameters: Set<String> = ["weight", "tps", "prefixes", "cost"]

    /// The entries, split at commas; a piece that starts with `+` continues the previous
    /// entry's `prefixes=` (`;prefixes=+1,+44`): a name never starts with `+`.
    private static func entries(of text: String) -> [String] {
        var entries: [String] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            if trimmed(piece).hasPrefix("+"), let last = entries.popLast() {
                entries.append(last + "," + piece)
            } else {
                entries.append(String(piece))
            }
        }
        return entries
    }

    /// `+1,+44` (or `+1|+44`, `+1 +44`): each `+` starts a prefix of 1 to 15 digits; repeats are dropped.
    private static func parsePrefixes(_ value: String, entry: String) throws(ConfigurationError) -> [String] {
        var prefixes: [String] = []
        var current: String?
        func finish() throws(ConfigurationError) {
            guard let prefix = current else { return }
            guard (2...16).contains(prefix.count) else {
                throw failure("entry `\(entry)` has the prefix `\(prefix)`; a prefix is `+` and 1 to 15 digits, e.g. +1 or +4477")
            }
            if !prefixes.contains(prefix) { prefixes.append(prefix) }
            current = nil
        }
        for character in value {
            if character == "+" {
                try finish()
                current = "+"
            } else if prefixSeparators.contains(character) {
                try finish()
            } else if let unicode = character.unicodeScalars.first, character.unicodeScalars.count == 1, ("0"..."9").contains(unicode),
                current != nil
            {
                current?.append(character)
            } else {
                throw failure(
                    "entry `\(entry)` has the prefixes `\(value)`; prefixes are E.164 prefixes (`+` and digits) separated by `,`, e.g. +1,+44")
            }
        }
        try finish()
        guard !prefixes.isEmpty else {
            throw failure("entry `\(entry)` has no prefix in `prefixes=`; give at least one, e.g. prefixes=+1")
        }
        return prefixes
    }

    /// 1 to 32 letters, digits, `_` or `-`: safe in a URL, a log line and a metric label.
    static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.unicodeScalars.count)
            && name.unicodeScalars.allSatisfy { scalar in
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "_" || scalar == "-"
            }
    }

    /// A light check, enough to catch typos such as a missing scheme or host; libcurl does
    /// the real parsing.
    private static func isValidURL(_ url: String) -> Bool {
        guard !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
            return false
        }
        let lowered = url.lowercased()
        let schemeLength: Int
        if lowered.hasPrefix("http://") {
            schemeLength = "http://".count
        } else if lowered.hasPrefix("https://") {
            schemeLength = "https://".count
        } else {
            return false
        }
        let rest = url.dropFirst(schemeLength)
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            // IPv6 literal, e.g. http://[::1]:9101/send
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { return false }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }),
                let number = Int(port), (1...65535).contains(number)
            else { return false }
        }
        return true
    }

    private static func trimmed(_ text: String) -> String {
        trimmed(text[...])
    }

    private static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else {
            return ""
        }
        return String(scalars[first...last])
    }
}
