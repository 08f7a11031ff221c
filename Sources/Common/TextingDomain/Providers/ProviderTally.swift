/// What one batch of sends did to one provider, for its shared health and the attempt counters.
public struct ProviderTally: Sendable, Equatable {
    public let provider: String
    public private(set) var accepted = 0
    public private(set) var temporaryFailures = 0
    public private(set) var permanentFailures = 0
    /// Of `temporaryFailures`: 429s, the provider saying it was sent too much.
    public private(set) var rateLimited = 0
    /// Temporary failures after the last acceptance in this batch: what the breaker's count
    /// becomes when the batch had an acceptance.
    public private(set) var trailingFailures = 0
    /// The reason of the batch's last answer that was not an acceptance (a timeout, a 503, a
    /// rejection), as `ProviderAnswer` quotes it: what operators see as the provider's last failure.
    public private(set) var lastFailure: String?

    public init(provider: String) {
        self.provider = provider
    }

    public mutating func record(_ answer: ProviderAnswer) {
        switch answer {
        case .accepted:
            accepted += 1
            trailingFailures = 0
        case .temporary(let reason, _):
            temporaryFailures += 1
            trailingFailures += 1
            if answer.isRateLimit { rateLimited += 1 }
            lastFailure = reason
        case .permanent(let reason, _):
            lastFailure = reason
            // The provider answered and decided: it is up, whatever it thought of the message.
            permanentFailures += 1
            trailingFailures = 0
        }
    }

    /// Whether the provider answered at all in this batch (an answer resets the breaker's count).
    public var answered: Bool { accepted + permanentFailures > 0 }
}
