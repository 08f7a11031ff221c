/// What becomes of a claimed job, recorded by `JobQueue.record` only while the sender still
/// holds the lease it decided under: the claim's holder and attempt number.
public struct JobOutcome: Sendable, Equatable {
    /// What to do with the job and its message.
    public enum Disposition: Sendable, Equatable {
        /// A provider accepted the message and gave its id (nil when the id it gave was not
        /// usable, see `ProviderAnswer`).
        case sent(provider: String, providerMessageID: String?)
        /// Try again after `delayMilliseconds`, preferably not on `provider`.
        case retry(provider: String, error: String, delayMilliseconds: Int)
        /// The message will never be sent: `code` and `detail` say why. `attempts` is what the
        /// message's count of attempts becomes (a claim that sent nothing does not count).
        case failed(attempts: Int, provider: String?, code: String, detail: String)
        /// The message left the queue on its own (canceled, already final): just drop the job.
        case dropped
    }

    /// The internal id of the message (and so of its job).
    public let messageID: Int64
    /// The attempt number the claim gave the job (`jobs.attempts` after the claim): with the
    /// sender's id, the lease this outcome was decided under.
    public let attempt: Int
    public let disposition: Disposition

    public init(messageID: Int64, attempt: Int, _ disposition: Disposition) {
        self.messageID = messageID
        self.attempt = attempt
        self.disposition = disposition
    }
}
