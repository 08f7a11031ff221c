/// What a sender learns when it holds a claimed job's recipient just before sending
/// (`JobQueue.holdRecipients`): a send and an opt-out of its recipient exclude each other, so
/// nothing reaches a number after its opt-out committed.
public enum RecipientHold: String, Sendable, Equatable {
    /// Held: send it; let go once its outcome is recorded.
    case send
    /// Held, but the number opted out after the claim looked: do not send (let go once the
    /// outcome is recorded).
    case optedOut = "opted_out"
    /// Not held: an opt-out of the number is being recorded right now. Try again shortly; by
    /// then the opt-out has either failed the message or changed nothing.
    case busy
}
