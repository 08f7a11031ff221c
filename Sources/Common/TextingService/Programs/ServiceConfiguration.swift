import TextingDomain
import TextingPostgres
import TextingSupport

/// What the processes build from the settings they share (`ServiceSettings` declares each
/// one). Each executable loads what it needs at start, so a bad value stops it with one line
/// naming the setting instead of failing later.
public enum ServiceConfiguration {
    /// The limits every connection sets (`PostgresSession`): the five `TEXTING_DATABASE_*` limits.
    public static func databaseSession(_ environment: EnvironmentReader) throws(ConfigurationError) -> PostgresSession {
        var session = PostgresSession()
        session.statementTimeoutMilliseconds = try ServiceSettings.statementTimeout.read(environment)
        session.lockTimeoutMilliseconds = try ServiceSettings.lockTimeout.read(environment)
        session.idleInTransactionTimeoutMilliseconds = try ServiceSettings.idleInTransactionTimeout.read(environment)
        session.connectTimeoutSeconds = try ServiceSettings.connectTimeout.read(environment)
        session.keepalivesIdleSeconds = try ServiceSettings.keepalivesIdle.read(environment)
        return session
    }

    /// A connection as the settings describe it (`TEXTING_DATABASE_URL`,
    /// `TEXTING_DATABASE_PREPARED_STATEMENTS`, `databaseSession`); it connects on first use.
    /// `direct`: to PostgreSQL itself (`TEXTING_DATABASE_DIRECT_URL` when set), for what keeps
    /// state in its session.
    public static func databaseConnection(_ environment: EnvironmentReader, direct: Bool = false) throws(ConfigurationError)
        -> @Sendable () -> PostgresConnection
    {
        let url = direct ? try databaseDirectURL(environment) : try ServiceSettings.databaseURL.read(environment)
        let prepared = try ServiceSettings.preparedStatements.read(environment)
        let session = try databaseSession(environment)
        return { PostgresConnection(conninfo: url, preparedStatements: prepared, session: session) }
    }

    /// PostgreSQL itself: `TEXTING_DATABASE_DIRECT_URL`, else `TEXTING_DATABASE_URL`.
    public static func databaseDirectURL(_ environment: EnvironmentReader) throws(ConfigurationError) -> String {
        if let direct = try ServiceSettings.databaseDirectURL.read(environment) { return direct }
        return try ServiceSettings.databaseURL.read(environment)
    }

    /// `TEXTING_CALLBACK_SECRET` and `TEXTING_CALLBACK_MAX_AGE` (seconds a callback URL stays good).
    public static func callbackSigner(_ environment: EnvironmentReader) throws(ConfigurationError) -> CallbackSigner {
        CallbackSigner(secret: try ServiceSettings.callbackSecret.read(environment), maximumAgeSeconds: try ServiceSettings.callbackMaxAge.read(environment))
    }

    /// Where webhooks may go (`TEXTING_WEBHOOK_ALLOW_HTTP`, `TEXTING_WEBHOOK_DESTINATIONS`).
    public static func webhookURLRules(_ environment: EnvironmentReader) throws(ConfigurationError) -> WebhookURLRules {
        WebhookURLRules(
            allowHTTP: try ServiceSettings.webhookAllowHTTP.read(environment),
            destinations: try ServiceSettings.webhookDestinations.read(environment))
    }
}
