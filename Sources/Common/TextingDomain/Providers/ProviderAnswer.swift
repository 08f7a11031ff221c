import TextingSupport

/// What a provider's answer means for the message. A provider is a peer we do not control:
/// its answer may hold any bytes at any size, and it is judged by these rules, in order,
/// each affecting only the message it answers.
///
/// 1. No complete answer (timeout, refused or reset connection, a body or headers over
///    `HTTPRequest.maximumResponseBytes`, a slow drip past the timeout): **temporary**.
/// 2. 2xx whose body is a JSON object (a UTF-8 byte order mark may come first) with a
///    non-empty string `message_id`: **accepted**. The id is kept when it is at most 200
///    bytes without control characters; any other (longer, NUL or other control characters)
///    still means accepted, since the provider gave an id and sending again would be a
///    duplicate SMS, but with the provider's id unknown (`providerMessageID` nil).
/// 3. Any other 2xx (no body, HTML, not JSON, no `message_id`, an empty one, one that is not
///    a string): **temporary**. Maybe accepted, maybe not: retrying risks a duplicate, not retrying
///    risks a lost message, and losing none is the promise.
/// 4. 429: **temporary**, honouring `Retry-After` in seconds (clamped to 0-3600).
/// 5. Any other 4xx: **permanent**; the message fails with the provider's answer recorded,
///    and the provider's own `error_code` when its body is a JSON object with a usable one
///    (`ProviderErrorCode`).
/// 6. Anything else (1xx, 3xx, which is never followed, 5xx, a status outside 100-599):
///    **temporary**.
///
/// Reasons quote at most 200 bytes of the body, with control characters and invalid UTF-8
/// escaped (`SafeText.excerpt`) and what the provider may have echoed of what we sent it (the
/// number, the text) masked.
public enum ProviderAnswer: Sendable, Equatable {
    /// `providerMessageID` is nil when the provider's id was not usable (rule 2).
    case accepted(providerMessageID: String?)
    /// `retryAfterMilliseconds` is the provider's `Retry-After`, when it gave one.
    case temporary(reason: String, retryAfterMilliseconds: Int?)
    case permanent(reason: String, providerCode: String? = nil)

    /// The longest provider id kept, in UTF-8 bytes.
    public static let maximumProviderMessageIDBytes = 200

    /// Rule 1: no complete answer; `reason` says what happened (the transfer's error).
    public init(noAnswer reason: String) {
        self = .temporary(reason: SafeText.escaped(reason, maximumBytes: 300), retryAfterMilliseconds: nil)
    }

    /// Rules 2-6, for a complete answer: its status, its `Retry-After` header if any, its body.
    /// `masking`: what the request carried that a quoted body must not show, each with the
    /// label that replaces it (`SafeText.masking`).
    public init(status: Int, retryAfter: String?, body: [UInt8], masking secrets: [(label: String, text: String)] = []) {
        // Only for answers that are quoted (not an acceptance, the common case), and only over
        // the head of the body the excerpt can show, plus room for a secret that starts in it
        // (its JSON spelling is at most 6 bytes per byte).
        var excerpt: String {
            let longest = secrets.map { $0.text.utf8.count }.max() ?? 0
            let head = Array(body.prefix(Self.excerptBytes + 4 + 6 * longest))
            let quoted = SafeText.excerpt(SafeText.masking(head, secrets), maximumBytes: Self.excerptBytes)
            return head.count < body.count && !quoted.hasSuffix("…") ? quoted + "…" : quoted
        }
        switch status {
        case 200...299:
            let json = body.starts(with: Self.byteOrderMark) ? Array(body.dropFirst(3)) : body
            if case .string(let id)? = (try? JSONValue.parse(json))?["message_id"], !id.isEmpty {
                self = .accepted(providerMessageID: Self.isUsable(id) ? id : nil)
            } else {
                self = .temporary(reason: "provider answered \(status) without a message_id: \(excerpt)", retryAfterMilliseconds: nil)
            }
        case 429:
            let seconds = retryAfter.flatMap { Int($0.trimmed) }
            self = .temporary(reason: Self.rateLimitReason, retryAfterMilliseconds: seconds.map { min(max($0, 0), 3600) * 1000 })
        case 400...499:
            let json = body.starts(with: Self.byteOrderMark) ? Array(body.dropFirst(3)) : body
            let code = (try? JSONValue.parse(json))?["error_code"].flatMap(ProviderErrorCode.parse)
            self = .permanent(reason: "provider rejected the message (\(status)): \(excerpt)", providerCode: code)
        default:
            self = .temporary(reason: "provider answered \(status): \(excerpt)", retryAfterMilliseconds: nil)
        }
    }

    /// The reason of a 429 (rule 4).
    public static let rateLimitReason = "provider rate limited (429)"

    /// Whether the provider said it was sent more than it takes (429): a provider with a
    /// contracted rate is then given less for a while (`ProviderRateStore.slowDown`).
    public var isRateLimit: Bool {
        if case .temporary(let reason, _) = self { return reason == Self.rateLimitReason }
        return false
    }

    /// Whether a provider's id can be stored and matched as it is: the same rule the delivery
    /// report endpoint applies to the id a provider reports.
    public static func isUsable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maximumProviderMessageIDBytes && !SafeText.containsControlCharacters(id)
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    /// The most of a body a reason quotes.
    private static let excerptBytes = 200
}

/// A provider's own code for why it failed or rejected a message (`"error_code": "30003"`, or
/// the number 30003), kept with the message as `error.provider_code`.
public enum ProviderErrorCode {
    /// The most characters kept.
    public static let maximumLength = 64

    /// The code, when `value` is a string of 1 to 64 visible characters (no spaces or control
    /// characters) or a whole number; nil for anything else.
    public static func parse(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text) where isValid(text): text
        case .number(let number) where number.rounded() == number && abs(number) < 1e15: String(Int64(number))
        default: nil
        }
    }

    /// 1 to 64 printable ASCII characters other than space.
    public static func isValid(_ text: String) -> Bool {
        (1...maximumLength).contains(text.unicodeScalars.count) && text.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
    }
}

/// A provider's own words for why a message failed (`"error_message"` or `"error_text"` of a
/// `failed` report), shown to the message's owner at the end of `error.detail`.
public enum ProviderErrorText {
    /// The most characters kept.
    public static let maximumLength = 200

    /// The text, when `value` is a string of 1 to 200 characters, not only spaces, without
    /// control characters; nil for anything else.
    public static func parse(_ value: JSONValue) -> String? {
        guard case .string(let text) = value, (1...maximumLength).contains(text.unicodeScalars.count),
            !text.unicodeScalars.allSatisfy({ $0 == " " }), !SafeText.containsControlCharacters(text)
        else { return nil }
        return text
    }
}
