/// What becomes of one webhook delivery after an attempt: the rules of retrying, giving up and
/// disabling an endpoint, in one place.
public enum WebhookDisposition: Sendable, Equatable {
    /// A 2xx: done.
    case delivered
    /// Try again after the delay (exponential backoff with jitter).
    case retry(afterMilliseconds: Int, error: String)
    /// Not delivered within the retry period (or 410 from a `status_callback`): this event is
    /// given up for this destination; it stays in `GET /events`.
    case gaveUp(error: String)
    /// The endpoint answered 410 Gone, or has failed for longer than the policy allows: it is
    /// disabled, with the reason its owner sees, and its queued deliveries are dropped.
    case disableEndpoint(reason: String)

    /// The outcome's name in `webhook_attempts.outcome` and `/metrics`.
    public var name: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "retrying"
        case .gaveUp: "failed"
        case .disableEndpoint: "disabled"
        }
    }

    /// One line for logs.
    public var summary: String {
        switch self {
        case .delivered: "delivered"
        case .retry(let delay, let error): "\(error); retrying in \(delay) ms"
        case .gaveUp(let error): "given up: \(error)"
        case .disableEndpoint(let reason): "endpoint disabled: \(reason)"
        }
    }

    /// Judges one attempt.
    /// - Parameters:
    ///   - status: the HTTP status of the answer, or nil when there was none (`error` says why).
    ///   - attempts: attempts made so far, this one included.
    ///   - eventAgeSeconds: how long ago the event was written.
    ///   - failingForSeconds: how long the endpoint has failed without a success in between
    ///     (nil: it has not; also nil for a `status_callback`).
    ///   - isEndpoint: false for a message's `status_callback`, which cannot be disabled.
    ///   - random: in `0..<1`, for the jitter.
    public init(
        status: Int?, error: String?, attempts: Int, eventAgeSeconds: Int, failingForSeconds: Int?, isEndpoint: Bool,
        policy: WebhookRetryPolicy, random: Double
    ) {
        if let status, (200...299).contains(status) {
            self = .delivered
            return
        }
        let failure = status.map { "answered HTTP \($0)" } ?? error ?? "no answer"
        if status == 410 {
            self = isEndpoint ? .disableEndpoint(reason: "answered 410 Gone") : .gaveUp(error: failure)
            return
        }
        if isEndpoint, let failingForSeconds, failingForSeconds >= policy.disableAfterSeconds {
            self = .disableEndpoint(reason: "no successful delivery for \(failingForSeconds / 3600) hours; last attempt: \(failure)")
            return
        }
        let delay = policy.backoff.delayMilliseconds(afterAttempt: attempts, random: random)
        if eventAgeSeconds + delay / 1000 > policy.retryForSeconds {
            self = .gaveUp(error: "not delivered within \(policy.retryForSeconds / 3600) hours of the event; last attempt: \(failure)")
            return
        }
        self = .retry(afterMilliseconds: delay, error: failure)
    }
}

/// How long webhooks are retried and when an endpoint is disabled.
public struct WebhookRetryPolicy: Sendable, Equatable {
    public let backoff: Backoff
    /// An event is retried until it is this old (3 days by default).
    public let retryForSeconds: Int
    /// An endpoint without a successful delivery for this long is disabled.
    public let disableAfterSeconds: Int

    public init(backoff: Backoff, retryForSeconds: Int, disableAfterSeconds: Int) {
        self.backoff = backoff
        self.retryForSeconds = retryForSeconds
        self.disableAfterSeconds = disableAfterSeconds
    }
}
