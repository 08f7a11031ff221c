/// What becomes of a claimed job, recorded by `JobQueue.record`.
public enum JobOutcome: Sendable, Equatable {
    /// A provider accepted the message and gave its id.
    case sent(messageID: Int64, attempts: Int, provider: String, providerMessageID: String)
    /// Try again after `delayMilliseconds`, preferably not on `provider`.
    case retry(messageID: Int64, provider: String, error: String, delayMilliseconds: Int)
    /// The message will never be sent: `code` and `detail` say why.
    case failed(messageID: Int64, attempts: Int, provider: String?, code: String, detail: String)
    /// The message left the queue on its own (canceled, already final): just drop the job.
    case dropped(messageID: Int64)

    /// The internal id of the message this outcome is about.
    public var messageID: Int64 {
        switch self {
        case .sent(let id, _, _, _), .retry(let id, _, _, _), .failed(let id, _, _, _, _), .dropped(let id): id
        }
    }
}
