/// What becomes of a claimed job, recorded by `JobQueue.record` only while the sender still
/// holds the lease it decided under: the claim's holder and attempt number.
public struct JobOutcome: Sendable, Equatable {
    /// What to do with the job and its message.
    public enum Disposition: Sendable, Equatable {
        /// A provider accepted the message and gave its id (nil when the id it gave was not
        /// usable, see `ProviderAnswer`); `charge` is what the send counts as (nil: not counted).
        case sent(provider: String, providerMessageID: String?, charge: SendCharge? = nil)
        /// Try again after `delayMilliseconds`, preferably not on `provider`.
        case retry(provider: String, error: String, delayMilliseconds: Int)
        /// The message will never be sent: `code` and `detail` say why, `providerCode` is the
        /// provider's own code for it, if it gave one. `attempts` is what the message's count of
        /// attempts becomes (a claim that sent nothing does not count).
        case failed(attempts: Int, provider: String?, code: String, detail: String, providerCode: String? = nil)
        /// Not sent now, for want of a provider that may take it now (paused, or out of its
        /// contracted rate): the job goes back as it was, due when it was due
        /// (`ClaimedJob.dueAtMicroseconds`) and without the claim's attempt.
        case deferred(dueAtMicroseconds: Int64)
        /// The message left the queue on its own (canceled, already final): just drop the job.
        case dropped
    }

    /// The internal id of the message (and so of its job).
    public let messageID: Int64
    /// The attempt number the claim gave the job (`jobs.attempts` after the claim): with the
    /// sender's id, the lease this outcome was decided under.
    public let attempt: Int
    public let disposition: Disposition
    /// The send behind this outcome, when a provider was sent the message and did not accept
    /// it; nil for an accepted send and for an outcome decided without sending.
    public let failedSend: FailedSend?

    public init(messageID: Int64, attempt: Int, _ disposition: Disposition, failedSend: FailedSend? = nil) {
        self.messageID = messageID
        self.attempt = attempt
        self.disposition = disposition
        self.failedSend = failedSend
    }
}

/// A send a provider did not accept: a temporary failure (retried, or the last one when the
/// attempts or the validity ran out) or a rejection. Every one is kept for operators
/// (`send_failures`, the console's message story): with the accepting send, which the message
/// itself records, they are the message's attempts.
public struct FailedSend: Sendable, Equatable {
    public let provider: String
    /// What the provider answered, or what happened instead, as `ProviderAnswer` quotes it.
    public let answer: String
    /// The provider's own error code, when it gave a usable one.
    public let providerCode: String?

    public init(provider: String, answer: String, providerCode: String? = nil) {
        self.provider = provider
        self.answer = answer
        self.providerCode = providerCode
    }
}

/// What an accepted send counts as, for `/metrics` and the message's cost: the provider's
/// prefix that routed it (`""` for a provider that takes every number), the message's
/// segments, and their cost at the provider's `;cost=` (nil when it has none).
public struct SendCharge: Sendable, Equatable {
    public let prefix: String
    public let segments: Int
    public let cost: Double?

    public init(prefix: String, segments: Int, cost: Double?) {
        self.prefix = prefix
        self.segments = segments
        self.cost = cost
    }

    /// A send of `segments` segments to `number` through `provider`.
    public init(provider: ProviderConfig, number: String, segments: Int) {
        self.init(prefix: provider.matchedPrefix(of: number) ?? "", segments: segments, cost: provider.cost.map { $0 * Double(segments) })
    }
}
