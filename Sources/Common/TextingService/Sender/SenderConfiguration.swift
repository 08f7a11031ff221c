import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

/// The sender's settings, checked at start.
public struct SenderConfiguration: Sendable {
    public let databaseURL: String
    public let preparedStatements: Bool
    public let databaseSession: PostgresSession
    public let providers: [ProviderConfig]
    public let publicBaseURL: String
    public let signer: CallbackSigner
    /// Jobs claimed per query (`TEXTING_SENDER_BATCH_SIZE`).
    public let batchSize: Int
    /// Sends in flight at once (`TEXTING_SENDER_CONCURRENCY`).
    public let concurrency: Int
    /// Whole-request limit for one provider call (`TEXTING_PROVIDER_TIMEOUT_MS`).
    public let providerTimeoutMilliseconds: Int
    public let backoff: Backoff
    /// Attempts before a message fails (`TEXTING_MAX_ATTEMPTS`).
    public let maximumAttempts: Int
    /// How long one run lasts before it exits for the timer to start the next (`TEXTING_SENDER_RUN_SECONDS`).
    public let runSeconds: Int
    /// Temporary failures in a row that open a provider's circuit breaker (`TEXTING_BREAKER_FAILURES`).
    public let breakerFailures: Int
    /// How long every sender skips a provider whose breaker opened (`TEXTING_BREAKER_COOLDOWN_SECONDS`).
    public let breakerCooldownSeconds: Int
    /// How long messages are kept (`TEXTING_RETENTION_DAYS`); nil: for ever.
    public let retention: History.Retention?

    /// A claimed job is not due again until its lease ends (`TEXTING_SENDER_LEASE_SECONDS`):
    /// by default longer than any send can take, so only a dead or stalled sender's jobs are
    /// ever reclaimed. A sender whose lease ran out and was taken records nothing for it.
    public let leaseSeconds: Int

    /// The lease when none is set: twice the provider timeout plus 30 s.
    public static func defaultLeaseSeconds(providerTimeoutMilliseconds: Int) -> Int { (providerTimeoutMilliseconds * 2) / 1000 + 30 }

    /// A new connection with these settings.
    public func makeConnection() -> PostgresConnection {
        PostgresConnection(conninfo: databaseURL, preparedStatements: preparedStatements, session: databaseSession)
    }

    public init(_ environment: EnvironmentReader) throws(ConfigurationError) {
        // Never through a pooler in transaction mode: the recipient holds a claim takes and
        // the LISTEN between bursts are this connection's session.
        databaseURL = try ServiceConfiguration.databaseDirectURL(environment)
        preparedStatements = try ServiceSettings.preparedStatements.read(environment)
        databaseSession = try ServiceConfiguration.databaseSession(environment)
        providers = try ServiceSettings.providers.read(environment)
        publicBaseURL = try ServiceSettings.publicBaseURL.read(environment)
        signer = try ServiceConfiguration.callbackSigner(environment)
        batchSize = try ServiceSettings.senderBatchSize.read(environment)
        concurrency = try ServiceSettings.senderConcurrency.read(environment)
        providerTimeoutMilliseconds = try ServiceSettings.providerTimeout.read(environment)
        leaseSeconds = try ServiceSettings.senderLease.read(environment) ?? Self.defaultLeaseSeconds(providerTimeoutMilliseconds: providerTimeoutMilliseconds)
        let base = try ServiceSettings.backoffBase.read(environment)
        let maximum = try ServiceSettings.backoffMaximum.read(environment)
        guard maximum >= base else {
            throw ConfigurationError(setting: ServiceSettings.backoffMaximum.name, problem: "must be at least \(ServiceSettings.backoffBase.name) (\(base))")
        }
        backoff = Backoff(baseMilliseconds: base, maximumMilliseconds: maximum)
        maximumAttempts = try ServiceSettings.maximumAttempts.read(environment)
        runSeconds = try ServiceSettings.senderRunSeconds.read(environment)
        breakerFailures = try ServiceSettings.breakerFailures.read(environment)
        breakerCooldownSeconds = try ServiceSettings.breakerCooldown.read(environment)
        retention = try ServiceSettings.retention(environment)
    }
}
