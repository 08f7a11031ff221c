import TextingFastCGI
import TextingSupport

/// Every environment variable of the service, described once for the programs' `--help`
/// (the README's configuration table says the same; the readers are in `Configuration/` and
/// `Sender/`; the mock provider's own settings are in MockProviderKit).
public enum SettingCatalog {
    public static let databaseURL = SettingDescription("TEXTING_DATABASE_URL", "libpq connection string or URI", default: nil)
    public static let preparedStatements = SettingDescription("TEXTING_DATABASE_PREPARED_STATEMENTS", "on: each query is prepared once per connection; off for PgBouncer before 1.21 in transaction mode", default: "on")
    public static let statementTimeout = SettingDescription("TEXTING_DATABASE_STATEMENT_TIMEOUT_MS", "statement_timeout of every connection in ms (0: none)", default: "30000")
    public static let lockTimeout = SettingDescription("TEXTING_DATABASE_LOCK_TIMEOUT_MS", "lock_timeout of every connection in ms (0: none)", default: "10000")
    public static let idleInTransactionTimeout = SettingDescription("TEXTING_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", "idle_in_transaction_session_timeout of every connection in ms (0: none)", default: "60000")
    public static let connectTimeout = SettingDescription("TEXTING_DATABASE_CONNECT_TIMEOUT", "seconds to wait for a connection to the database (2-300)", default: "5")
    public static let keepalivesIdle = SettingDescription("TEXTING_DATABASE_KEEPALIVES_IDLE", "idle seconds before TCP keepalive probes (every third of it, 3 lost end the connection)", default: "30")
    /// The settings every program that connects to the database reads.
    public static let database = [databaseURL, preparedStatements, statementTimeout, lockTimeout, idleInTransactionTimeout, connectTimeout, keepalivesIdle]
    public static let publicBaseURL = SettingDescription("TEXTING_PUBLIC_BASE_URL", "where providers reach nginx; callbacks go to <this>/messages/delivery_status", default: nil)
    public static let callbackSecret = SettingDescription("TEXTING_CALLBACK_SECRET", "HMAC key signing callback URLs, at least 32 characters (openssl rand -hex 32)", default: nil)
    public static let callbackMaxAge = SettingDescription("TEXTING_CALLBACK_MAX_AGE", "seconds a signed callback URL stays valid", default: "604800")
    public static let providers = SettingDescription("TEXTING_PROVIDERS", "providers: name=url[;weight=N],… (weights 1-1000)", default: nil)
    public static let defaultCountryCode = SettingDescription("TEXTING_DEFAULT_COUNTRY_CODE", "calling code (digits, no +) for numbers written without +", default: "1")
    public static let fastCGISocket = FastCGISettings.socket
    public static let fastCGIThreads = SettingDescription("TEXTING_FCGI_THREADS", "worker threads (1-256), each with its own database connection, opened when first needed", default: "32")
    public static let commitConnections = SettingDescription("TEXTING_COMMIT_CONNECTIONS", "connections that commit concurrent requests' writes in batches, besides the workers' (1-64)", default: "2")
    public static let migrationsDirectory = SettingDescription("TEXTING_MIGRATIONS_DIR", "folder of numbered .sql migrations", default: "migrations")
    public static let senderRunSeconds = SettingDescription("TEXTING_SENDER_RUN_SECONDS", "how long one run lasts before the timer starts the next (1-3600)", default: "55")
    public static let senderBatchSize = SettingDescription("TEXTING_SENDER_BATCH_SIZE", "jobs claimed per query (1-1000)", default: "100")
    public static let senderConcurrency = SettingDescription("TEXTING_SENDER_CONCURRENCY", "provider requests in flight at once (1-2000)", default: "200")
    public static let senderLease = SettingDescription("TEXTING_SENDER_LEASE_SECONDS", "how long a claimed job stays with its sender before another may take it (1-86400)", default: "2 × provider timeout + 30")
    public static let providerTimeout = SettingDescription("TEXTING_PROVIDER_TIMEOUT_MS", "limit for one provider request in ms (100-120000)", default: "5000")
    public static let backoffBase = SettingDescription("TEXTING_BACKOFF_BASE_MS", "first retry delay in ms; doubles per attempt, with jitter", default: "2000")
    public static let backoffMaximum = SettingDescription("TEXTING_BACKOFF_MAX_MS", "ceiling of any retry delay in ms", default: "600000")
    public static let maximumAttempts = SettingDescription("TEXTING_MAX_ATTEMPTS", "attempts before a message fails with retries_exhausted (1-100)", default: "6")
    public static let breakerFailures = SettingDescription("TEXTING_BREAKER_FAILURES", "temporary failures in a row that open a provider's circuit breaker", default: "5")
    public static let breakerCooldown = SettingDescription("TEXTING_BREAKER_COOLDOWN_SECONDS", "how long every sender then skips that provider (1-3600)", default: "30")
}
