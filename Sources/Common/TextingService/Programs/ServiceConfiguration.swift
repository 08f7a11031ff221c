import TextingDomain
import TextingPostgres
import TextingSupport

/// The settings the processes share. Each executable loads the ones it needs at start, so a
/// bad value stops it with one line naming the setting instead of failing later.
public enum ServiceConfiguration {
    /// `TEXTING_DATABASE_URL`: a libpq connection string or URI.
    public static func databaseURL(_ environment: EnvironmentReader) throws(ConfigurationError) -> String {
        try environment.required("TEXTING_DATABASE_URL", example: "postgresql:///texting?host=/run/postgresql")
    }

    /// `TEXTING_DATABASE_PREPARED_STATEMENTS`: `on` (default) or `off`, for a connection
    /// pooler that cannot keep named prepared statements (PgBouncer before 1.21 in
    /// transaction mode).
    public static func preparedStatements(_ environment: EnvironmentReader) throws(ConfigurationError) -> Bool {
        switch environment.string("TEXTING_DATABASE_PREPARED_STATEMENTS", default: "on").lowercased() {
        case "on", "true", "1", "yes": return true
        case "off", "false", "0", "no": return false
        case let other:
            throw ConfigurationError(setting: "TEXTING_DATABASE_PREPARED_STATEMENTS", problem: "must be on or off; got `\(other)`")
        }
    }

    /// The limits every connection sets (`PostgresSession`): `TEXTING_DATABASE_STATEMENT_TIMEOUT_MS`,
    /// `TEXTING_DATABASE_LOCK_TIMEOUT_MS`, `TEXTING_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`,
    /// `TEXTING_DATABASE_CONNECT_TIMEOUT` and `TEXTING_DATABASE_KEEPALIVES_IDLE`.
    public static func databaseSession(_ environment: EnvironmentReader) throws(ConfigurationError) -> PostgresSession {
        var session = PostgresSession()
        session.statementTimeoutMilliseconds = try environment.int("TEXTING_DATABASE_STATEMENT_TIMEOUT_MS", default: session.statementTimeoutMilliseconds, range: 0...3_600_000)
        session.lockTimeoutMilliseconds = try environment.int("TEXTING_DATABASE_LOCK_TIMEOUT_MS", default: session.lockTimeoutMilliseconds, range: 0...3_600_000)
        session.idleInTransactionTimeoutMilliseconds = try environment.int("TEXTING_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                                                                           default: session.idleInTransactionTimeoutMilliseconds, range: 0...3_600_000)
        session.connectTimeoutSeconds = try environment.int("TEXTING_DATABASE_CONNECT_TIMEOUT", default: session.connectTimeoutSeconds, range: 2...300)
        session.keepalivesIdleSeconds = try environment.int("TEXTING_DATABASE_KEEPALIVES_IDLE", default: session.keepalivesIdleSeconds, range: 1...7200)
        return session
    }

    /// A connection as the settings describe it (`TEXTING_DATABASE_URL`,
    /// `TEXTING_DATABASE_PREPARED_STATEMENTS`, `databaseSession`); it connects on first use.
    public static func databaseConnection(_ environment: EnvironmentReader) throws(ConfigurationError) -> @Sendable () -> PostgresConnection {
        let url = try databaseURL(environment)
        let prepared = try preparedStatements(environment)
        let session = try databaseSession(environment)
        return { PostgresConnection(conninfo: url, preparedStatements: prepared, session: session) }
    }

    /// `TEXTING_FCGI_THREADS`: worker threads, each with its own database connection (opened
    /// when the thread first needs it). MessagesFCGI's threads mostly wait for a group commit:
    /// the more requests wait at once, the more each commit carries.
    public static func fastCGIThreads(_ environment: EnvironmentReader) throws(ConfigurationError) -> Int {
        try environment.int("TEXTING_FCGI_THREADS", default: 32, range: 1...256)
    }

    /// `TEXTING_COMMIT_CONNECTIONS`: each FastCGI process's connections that commit the writes
    /// of concurrent requests in batches (`GroupCommit`: accepted messages in MessagesFCGI,
    /// delivery reports in DeliveryFCGI), besides one per worker thread.
    public static func commitConnections(_ environment: EnvironmentReader) throws(ConfigurationError) -> Int {
        try environment.int("TEXTING_COMMIT_CONNECTIONS", default: 2, range: 1...64)
    }

    /// `TEXTING_DEFAULT_COUNTRY_CODE`: digits, no `+`; given to numbers written without `+`.
    public static func defaultCountryCode(_ environment: EnvironmentReader) throws(ConfigurationError) -> String {
        let code = environment.string("TEXTING_DEFAULT_COUNTRY_CODE", default: "1").trimmed
        guard PhoneNumber.isValidCountryCode(code) else {
            throw ConfigurationError(setting: "TEXTING_DEFAULT_COUNTRY_CODE", problem: "must be 1 to 3 digits without `+`, e.g. 1 or 44; got `\(code)`")
        }
        return code
    }

    /// `TEXTING_CALLBACK_SECRET` and `TEXTING_CALLBACK_MAX_AGE` (seconds a callback URL stays good).
    public static func callbackSigner(_ environment: EnvironmentReader) throws(ConfigurationError) -> CallbackSigner {
        let secret = try environment.required("TEXTING_CALLBACK_SECRET", example: "$(openssl rand -hex 32)")
        guard secret.utf8.count >= CallbackSigner.minimumSecretLength else {
            throw ConfigurationError(setting: "TEXTING_CALLBACK_SECRET", problem: "must be at least \(CallbackSigner.minimumSecretLength) characters; make one with `openssl rand -hex 32`")
        }
        let maximumAge = try environment.int("TEXTING_CALLBACK_MAX_AGE", default: 7 * 24 * 3600, range: 60...(90 * 24 * 3600))
        return CallbackSigner(secret: secret, maximumAgeSeconds: maximumAge)
    }

    /// `TEXTING_PUBLIC_BASE_URL`: where providers reach nginx, e.g. `https://sms.example.com`.
    public static func publicBaseURL(_ environment: EnvironmentReader) throws(ConfigurationError) -> String {
        var url = try environment.required("TEXTING_PUBLIC_BASE_URL", example: "https://sms.example.com")
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.split(separator: "/").count >= 2 else {
            throw ConfigurationError(setting: "TEXTING_PUBLIC_BASE_URL", problem: "must be an http:// or https:// URL such as https://sms.example.com; got `\(url)`")
        }
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
