/// The rules that decide a claimed job's outcome: pure (the clock and the backoff's random
/// draw are arguments), so they are checked without a provider or a database.
extension JobOutcome {
    /// What a provider's answer to a send means for its job: sent; failed for good (rejected,
    /// attempts used up, or the validity running out before the next attempt); or retried
    /// after the backoff (or the provider's `Retry-After`, if longer) on another provider.
    public init(
        answer: ProviderAnswer, job: ClaimedJob, provider: String, charge: SendCharge? = nil, backoff: Backoff, maximumAttempts: Int,
        nowMilliseconds: Int64, random: Double
    ) {
        let disposition: Disposition
        var failedSend: FailedSend?
        switch answer {
        case .accepted(let providerMessageID):
            disposition = .sent(provider: provider, providerMessageID: providerMessageID, charge: charge)
        case .permanent(let reason, let providerCode):
            disposition = .failed(attempts: job.attempts, provider: provider, code: "provider_rejected", detail: reason, providerCode: providerCode)
            failedSend = FailedSend(provider: provider, answer: reason, providerCode: providerCode)
        case .temporary(let reason, let retryAfter):
            failedSend = FailedSend(provider: provider, answer: reason)
            let delay = max(retryAfter ?? 0, backoff.delayMilliseconds(afterAttempt: job.attempts, random: random))
            if job.attempts >= maximumAttempts {
                disposition = .failed(
                    attempts: job.attempts, provider: provider, code: "retries_exhausted",
                    detail: "No provider accepted the message after \(job.attempts) attempts; the last said: \(reason)")
            } else if let expiry = job.expiresAtMilliseconds, expiry <= nowMilliseconds + Int64(delay) {
                disposition = .failed(
                    attempts: job.attempts, provider: provider, code: "expired",
                    detail: "The message's validity period runs out before the next attempt; the last said: \(reason)")
            } else {
                disposition = .retry(provider: provider, error: reason, delayMilliseconds: delay)
            }
        }
        self.init(messageID: job.messageID, attempt: job.attempts, disposition, failedSend: failedSend)
    }

    /// The outcome of a claimed job that is not to be sent (canceled or already final, its
    /// number inactive or opted out, its validity over, its recipient not held), or nil when
    /// it is to be sent.
    public static func withoutSending(_ job: ClaimedJob, nowMilliseconds: Int64) -> JobOutcome? {
        let disposition: Disposition
        if job.status != .queued && job.status != .sending {
            disposition = .dropped
        } else if !job.phoneNumberActive {
            disposition = .failed(
                attempts: job.attempts - 1, provider: nil, code: "phone_number_inactive",
                detail: "A provider reported the phone number invalid; nothing more is sent to it.")
        } else if job.recipientOptedOut {
            disposition = .failed(
                attempts: job.attempts - 1, provider: nil, code: "recipient_opted_out",
                detail: "The recipient opted out (replied STOP, or an operator put the number on the opt-out list); nothing more is sent to it.")
        } else if let expiry = job.expiresAtMilliseconds, expiry <= nowMilliseconds {
            disposition = .failed(
                attempts: job.attempts - 1, provider: nil, code: "expired",
                detail: "The message's validity period ran out before it could be sent.")
        } else if !job.recipientHeld {
            // An opt-out of the number is being recorded: a moment later it has either failed
            // the message or changed nothing.
            disposition = .retry(
                provider: job.lastProvider ?? "", error: "an opt-out of the recipient was being recorded",
                delayMilliseconds: busyRetryMilliseconds)
        } else {
            return nil
        }
        return JobOutcome(messageID: job.messageID, attempt: job.attempts, disposition)
    }

    /// A claimed job whose number no configured provider takes (`ProviderBalancer.Choice.noRoute`):
    /// it fails at once, spending no attempt.
    public static func noRoute(_ job: ClaimedJob) -> JobOutcome {
        JobOutcome(
            messageID: job.messageID, attempt: job.attempts,
            .failed(
                attempts: job.attempts - 1, provider: nil, code: "no_route",
                detail: "No configured provider takes numbers like this one (see the providers' prefixes)."))
    }

    /// A claimed job that only providers closed now take (paused, or out of their contracted
    /// rate): back to its place in the queue, its attempt given back.
    public static func deferred(_ job: ClaimedJob) -> JobOutcome {
        JobOutcome(messageID: job.messageID, attempt: job.attempts, .deferred(dueAtMicroseconds: job.dueAtMicroseconds))
    }

    /// How long a job whose recipient was not held waits before it is claimed again.
    public static let busyRetryMilliseconds = 1000
}

extension ClaimedJob {
    /// What a provider's answer must not quote, in case it echoes what it was sent: the
    /// message's text (first: it may contain the number; a text of a few characters would
    /// mask ordinary words, so only longer ones) and the recipient's number, with and without
    /// its `+`. The answer's quotes go to logs and to the message's error.
    public var secrets: [(label: String, text: String)] {
        (body.count >= 8 ? [("[message]", body)] : []) + [("[number]", toNumber), ("[number]", String(toNumber.drop { $0 == "+" }))]
    }
}
