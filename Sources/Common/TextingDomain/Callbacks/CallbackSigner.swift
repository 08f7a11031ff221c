import TextingSupport

/// Signs the callback URL handed to a provider, and checks it when the provider calls back.
/// Without it anybody could POST `invalid` and deactivate any phone number.
///
/// The URL names our message id (`mid`), so a callback that overtakes the sender's record of
/// the provider's id still finds its message; the attempt it was issued for (`gen`, `att`,
/// `prv`: see `CallbackAttempt`), so a report is applied only while that attempt holds the
/// message; and the time it was issued (`ts`), so an old URL stops working after
/// `maximumAgeSeconds`. `sig` is HMAC-SHA-256 over all of them.
///
/// URLs issued before attempts were bound (`v1`: `mid`, `ts` and `sig` only) still verify,
/// with no attempt; `DeliveryStore` applies their reports only when the provider's id matches
/// the one recorded for the message.
public struct CallbackSigner: Sendable {
    private let secret: [UInt8]
    public let maximumAgeSeconds: Int

    public static let minimumSecretLength = 32

    public init(secret: String, maximumAgeSeconds: Int) {
        self.secret = Array(secret.utf8)
        self.maximumAgeSeconds = maximumAgeSeconds
    }

    /// What a genuine callback URL names.
    public struct SignedCallback: Sendable, Equatable {
        /// Our public message id.
        public let messageID: String
        /// The attempt the URL was issued for; nil for a `v1` URL.
        public let attempt: CallbackAttempt?

        public init(messageID: String, attempt: CallbackAttempt?) {
            self.messageID = messageID
            self.attempt = attempt
        }
    }

    /// The query string (without `?`) for `attempt` of message `messageID`, issued at
    /// `issuedAt` (Unix seconds). Without an attempt it is a `v1` URL, which the sender no
    /// longer issues (kept for tests of what older URLs do).
    public func signedQuery(messageID: String, attempt: CallbackAttempt? = nil, issuedAt: Int) -> String {
        guard let attempt else {
            return "mid=\(messageID)&ts=\(issuedAt)&sig=\(signature(Self.v1(messageID, issuedAt)))"
        }
        return "mid=\(messageID)&gen=\(attempt.generation)&att=\(attempt.number)&prv=\(attempt.provider)&ts=\(issuedAt)"
            + "&sig=\(signature(Self.v2(messageID, attempt, issuedAt)))"
    }

    /// What a callback's query names, if its signature is genuine and not stale.
    public func verify(parameters: [String: String], now: Int) -> SignedCallback? {
        guard let messageID = parameters["mid"], let issuedText = parameters["ts"], let issuedAt = Int(issuedText),
            let signature = parameters["sig"]
        else { return nil }
        // Allow a little clock skew between hosts, but no URL from the far future. Compared
        // without subtracting from `issuedAt`, which a caller controls and could overflow.
        guard issuedAt <= now + 300, issuedAt >= now - maximumAgeSeconds else { return nil }
        var attempt: CallbackAttempt?
        let signed: String
        if parameters["att"] == nil && parameters["gen"] == nil && parameters["prv"] == nil {
            signed = Self.v1(messageID, issuedAt)
        } else {
            guard let generation = parameters["gen"].flatMap(CallbackAttempt.count), let number = parameters["att"].flatMap(CallbackAttempt.count),
                let provider = parameters["prv"], ProviderConfig.isValidName(provider)
            else { return nil }
            attempt = CallbackAttempt(generation: generation, number: number, provider: provider)
            signed = Self.v2(messageID, attempt!, issuedAt)
        }
        let expected = self.signature(signed)
        guard Digest.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else { return nil }
        return SignedCallback(messageID: messageID, attempt: attempt)
    }

    /// The query of a provider's inbound URL (`POST /messages/inbound?prv=…&sig=…`): one per
    /// provider, without expiry (a provider keeps it configured), revoked by changing the
    /// secret. `textingctl providers inbound-url` prints it.
    public func inboundQuery(provider: String) -> String {
        "prv=\(provider)&sig=\(signature(Self.inbound(provider)))"
    }

    /// The provider an inbound URL's query was signed for; nil when unsigned or forged
    /// (compared in constant time).
    public func verifyInbound(parameters: [String: String]) -> String? {
        guard let provider = parameters["prv"], ProviderConfig.isValidName(provider), let signature = parameters["sig"] else { return nil }
        let expected = self.signature(Self.inbound(provider))
        guard Digest.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8)) else { return nil }
        return provider
    }

    private static func inbound(_ provider: String) -> String { "inbound-v1|\(provider)" }

    private static func v1(_ messageID: String, _ issuedAt: Int) -> String { "v1|\(messageID)|\(issuedAt)" }

    private static func v2(_ messageID: String, _ attempt: CallbackAttempt, _ issuedAt: Int) -> String {
        "v2|\(messageID)|\(attempt.generation)|\(attempt.number)|\(attempt.provider)|\(issuedAt)"
    }

    private func signature(_ text: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: secret, data: Array(text.utf8)))
    }
}

/// One attempt to send a message: the only one whose provider's reports count while it holds
/// the message. Attempt numbers restart when an operator requeues a failed message, so the
/// generation (how many times it was requeued) tells a new attempt 1 from an old one.
public struct CallbackAttempt: Sendable, Equatable {
    public let generation: Int
    /// The attempt number the sender's claim gave (`jobs.attempts`).
    public let number: Int
    public let provider: String

    public init(generation: Int, number: Int, provider: String) {
        self.generation = generation
        self.number = number
        self.provider = provider
    }

    /// A count as the signer writes it: decimal digits, no sign, no leading zero, at most a
    /// million. Only that one spelling is accepted, so a signed URL has one form.
    static func count(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 7, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            text == "0" || !text.hasPrefix("0"), let value = Int(text), value <= 1_000_000
        else { return nil }
        return value
    }
}
