/// A job a sender holds under lease, with what it needs to decide and send.
public struct ClaimedJob: Sendable {
    public let messageID: Int64
    public let publicID: String
    public let toNumber: String
    public let body: String
    /// Attempts including this one: this claim's attempt number.
    public let attempts: Int
    /// How many times an operator requeued the message (`CallbackAttempt.generation`).
    public let generation: Int
    /// The provider the previous attempt used, to try another one this time.
    public let lastProvider: String?
    public let status: MessageStatus
    public let phoneNumberActive: Bool
    /// The recipient is on the opt-out list and this is not the confirmation of that opt-out.
    public let recipientOptedOut: Bool
    /// The claim holds the recipient (`JobQueue.claim`): false while an opt-out of the number
    /// is being recorded, so the job must not be sent now.
    public let recipientHeld: Bool
    /// When the message stops being worth sending (Unix milliseconds), if it has a validity.
    public let expiresAtMilliseconds: Int64?
    /// The message's SMS segments (what a provider charges for).
    public let segments: Int
    /// When the job was due before this claim (Unix microseconds): a job deferred for want
    /// of a provider goes back to its place in the queue.
    public let dueAtMicroseconds: Int64
    /// Who the message says it is from (`from`), passed to the provider; nil: the provider's own.
    public let sender: String?

    public init(
        messageID: Int64, publicID: String, toNumber: String, body: String, attempts: Int, generation: Int,
        lastProvider: String?, status: MessageStatus, phoneNumberActive: Bool, recipientOptedOut: Bool = false,
        recipientHeld: Bool = true, expiresAtMilliseconds: Int64?, segments: Int = 1, dueAtMicroseconds: Int64 = 0,
        sender: String? = nil
    ) {
        self.messageID = messageID
        self.publicID = publicID
        self.toNumber = toNumber
        self.body = body
        self.attempts = attempts
        self.generation = generation
        self.lastProvider = lastProvider
        self.status = status
        self.phoneNumberActive = phoneNumberActive
        self.recipientOptedOut = recipientOptedOut
        self.recipientHeld = recipientHeld
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.segments = segments
        self.dueAtMicroseconds = dueAtMicroseconds
        self.sender = sender
    }
}
