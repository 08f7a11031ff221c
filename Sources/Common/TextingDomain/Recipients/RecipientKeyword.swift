/// What a recipient's reply asks for, when the whole reply is a keyword: to receive nothing
/// more (opt out), to receive again (opt in), or the help text.
public enum RecipientKeyword: String, Sendable, Equatable, CaseIterable {
    case optOut = "opt_out"
    case optIn = "opt_in"
    case help = "help"
}

/// The keyword lists (settings; the defaults are the carriers' and Twilio's) and the one rule
/// that reads a reply: the whole body, with surrounding white space and trailing `.`, `!` or
/// `?` removed and case folded, must be one of the words. So `STOP`, ` stop `, `Stop.` and
/// `STOP!` opt out; `stop it`, `STOP STOP`, `"STOP"` and `STOP-` do not (a recipient who
/// writes more than the keyword wrote a message, which the client gets like any other).
public struct RecipientKeywords: Sendable, Equatable {
    public static let defaultOptOut = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
    public static let defaultOptIn = ["START", "UNSTOP", "YES"]
    public static let defaultHelp = ["HELP", "INFO"]

    public let optOut: Set<String>
    public let optIn: Set<String>
    public let help: Set<String>

    /// The words are folded as replies are; a word in two lists is refused (which would win?).
    public init(
        optOut: [String] = Self.defaultOptOut, optIn: [String] = Self.defaultOptIn, help: [String] = Self.defaultHelp
    ) throws(ValidationError) {
        func folded(_ words: [String], _ list: String) throws(ValidationError) -> Set<String> {
            var result = Set<String>()
            for word in words {
                let key = Self.fold(word)
                guard !key.isEmpty, key.count <= 40, !key.contains(where: \.isWhitespace) else {
                    throw ValidationError(
                        .invalidParameter, "`\(word.prefix(40))` in the \(list) keywords must be one word of 1 to 40 characters.", field: list)
                }
                result.insert(key)
            }
            return result
        }
        let optOut = try folded(optOut, "opt-out")
        let optIn = try folded(optIn, "opt-in")
        let help = try folded(help, "help")
        if let both = optOut.intersection(optIn).union(optOut.intersection(help)).union(optIn.intersection(help)).sorted().first {
            throw ValidationError(.invalidParameter, "`\(both)` is in two keyword lists; each keyword may mean one thing.", field: "keywords")
        }
        self.optOut = optOut
        self.optIn = optIn
        self.help = help
    }

    /// The keyword `body` is, or nil when it is a message.
    public func keyword(of body: String) -> RecipientKeyword? {
        let key = Self.fold(body)
        if optOut.contains(key) { return .optOut }
        if optIn.contains(key) { return .optIn }
        if help.contains(key) { return .help }
        return nil
    }

    /// White space around and trailing sentence punctuation removed, upper-cased.
    static func fold(_ text: String) -> String {
        var scalars = Substring(text)
        while let last = scalars.last, last.isWhitespace || last == "." || last == "!" || last == "?" { scalars.removeLast() }
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        return scalars.uppercased()
    }
}
