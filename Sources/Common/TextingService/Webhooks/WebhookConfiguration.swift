import TextingDomain
import TextingPostgres
import TextingSupport

/// The webhook dispatcher's settings, checked at start.
public struct WebhookConfiguration: Sendable {
    public let rules: WebhookURLRules
    /// Requests in flight at once (`TEXTING_WEBHOOK_CONCURRENCY`).
    public let concurrency: Int
    public let timeoutMilliseconds: Int
    public let policy: WebhookRetryPolicy
    /// How long a claimed delivery stays with its dispatcher: longer than any attempt takes.
    public var leaseSeconds: Int { timeoutMilliseconds / 1000 + 30 }
    /// The most of an answer's body read (it is only logged): a peer cannot fill the memory.
    public static let maximumAnswerBytes = 4096

    public init(_ environment: EnvironmentReader) throws(ConfigurationError) {
        rules = try ServiceConfiguration.webhookURLRules(environment)
        concurrency = try ServiceSettings.webhookConcurrency.read(environment)
        timeoutMilliseconds = try ServiceSettings.webhookTimeout.read(environment)
        let base = try ServiceSettings.webhookBackoffBase.read(environment)
        let maximum = try ServiceSettings.webhookBackoffMaximum.read(environment)
        guard maximum >= base else {
            throw ConfigurationError(
                setting: ServiceSettings.webhookBackoffMaximum.name, problem: "must be at least \(ServiceSettings.webhookBackoffBase.name) (\(base))")
        }
        policy = WebhookRetryPolicy(
            backoff: Backoff(baseMilliseconds: base, maximumMilliseconds: maximum),
            retryForSeconds: try ServiceSettings.webhookRetryHours.read(environment) * 3600,
            disableAfterSeconds: try ServiceSettings.webhookDisableAfterHours.read(environment) * 3600)
    }
}
