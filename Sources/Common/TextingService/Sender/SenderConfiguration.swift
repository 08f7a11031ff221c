import TextingDomain
import TextingPostgres
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
        databaseURL = try ServiceConfiguration.databaseURL(environment)
        preparedStatements = try ServiceConfiguration.preparedStatements(environment)
        databaseSession = try ServiceConfiguration.databaseSession(environment)
        providers = try ProviderConfig.parseList(try environment.required("TEXTING_PROVIDERS", example: "p1=https://provider-one.example/send;weight=30,p2=https://provider-two.example/send;weight=70"))
        publicBaseURL = try ServiceConfiguration.publicBaseURL(environment)
        signer = try ServiceConfiguration.callbackSigner(environment)
        batchSize = try environment.int("TEXTING_SENDER_BATCH_SIZE", default: 100, range: 1...1000)
        concurrency = try environment.int("TEXTING_SENDER_CONCURRENCY", default: 200, range: 1...2000)
        providerTimeoutMilliseconds = try environment.int("TEXTING_PROVIDER_TIMEOUT_MS", default: 5000, range: 100...120_000)
        leaseSeconds = try environment.int("TEXTING_SENDER_LEASE_SECONDS",
                                           default: Self.defaultLeaseSeconds(providerTimeoutMilliseconds: providerTimeoutMilliseconds), range: 1...86_400)
        let base = try environment.int("TEXTING_BACKOFF_BASE_MS", default: 2000, range: 0...3_600_000)
        let maximum = try environment.int("TEXTING_BACKOFF_MAX_MS", default: 600_000, range: 0...86_400_000)
        guard maximum >= base else {
            throw ConfigurationError(setting: "TEXTING_BACKOFF_MAX_MS", problem: "must be at least TEXTING_BACKOFF_BASE_MS (\(base))")
        }
        backoff = Backoff(baseMilliseconds: base, maximumMilliseconds: maximum)
        maximumAttempts = try environment.int("TEXTING_MAX_ATTEMPTS", default: 6, range: 1...100)
        runSeconds = try environment.int("TEXTING_SENDER_RUN_SECONDS", default: 55, range: 1...3600)
        breakerFailures = try environment.int("TEXTING_BREAKER_FAILURES", default: 5, range: 1...10_000)
        breakerCooldownSeconds = try environment.int("TEXTING_BREAKER_COOLDOWN_SECONDS", default: 30, range: 1...3600)
    }
}
