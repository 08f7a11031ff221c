import TextingSupport

/// A client's webhook URL (an endpoint's `url`, a message's `status_callback`), checked: an
/// absolute `https://` URL (or `http://` where the rules allow it) with a host, no user
/// name or password, no fragment, at most 2048 bytes, and a host that is not an address the
/// rules refuse. A host name is checked again, for every address it resolves to, when the
/// dispatcher connects.
public struct WebhookURL: Sendable, Equatable, Hashable {
    public static let maximumLength = 2048
    public let text: String

    public init(validating text: String, rules: WebhookURLRules, field: String) throws(ValidationError) {
        func refuse(_ why: String) -> ValidationError {
            ValidationError(.invalidWebhookURL, "`\(field)` \(why)", field: field)
        }
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else {
            throw refuse("must be a URL of 1 to \(Self.maximumLength) bytes.")
        }
        guard text.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw refuse("must be written in visible ASCII without spaces (percent-encode anything else).")
        }
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = text.dropFirst("https://".count)
        } else if lower.hasPrefix("http://") {
            guard rules.allowHTTP else { throw refuse("must be an https:// URL; plain http is not allowed on this service.") }
            rest = text.dropFirst("http://".count)
        } else {
            throw refuse("must be an absolute https:// URL such as https://example.com/webhooks; got `\(text.prefix(40))`.")
        }
        guard !text.contains("#") else { throw refuse("must not have a #fragment.") }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.contains("@") else { throw refuse("must not carry a user name or password.") }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw refuse("has an unclosed IPv6 address.") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterHost = authority[authority.index(after: close)...]
            try Self.checkPort(afterHost, refuse)
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { try Self.checkPort(":" + parts[1], refuse) }
        }
        guard !host.isEmpty else { throw refuse("must name a host.") }
        if let reason = rules.destinations.refusal(host: String(host)) {
            throw refuse("points at a \(reason); webhooks go to public addresses only.")
        }
        self.text = text
    }

    private static func checkPort(_ text: Substring, _ refuse: (String) -> ValidationError) throws(ValidationError) {
        guard !text.isEmpty else { return }
        guard text.first == ":", let port = Int(text.dropFirst()), (1...65535).contains(port) else {
            throw refuse("has an invalid port.")
        }
    }
}
