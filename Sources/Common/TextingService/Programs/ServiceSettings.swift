import TextingDomain
import TextingFastCGI
import TextingStore
import TextingSupport

/// Every `TEXTING_*` environment variable, declared once: name, meaning, default, range, who
/// reads it, and the rule its value must follow. `ServiceConfiguration` and
/// `SenderConfiguration` read through these; `--help` (`ProgramCatalog`), the example settings
/// file and the README's table are printed from them (`textingctl settings`), and a test fails
/// when the committed README or example file differ. The mock provider's `MOCK_*` settings are
/// MockProviderKit's.
public enum ServiceSettings {
    // The programs, as `readBy` names them.
    public static let messagesFCGI = "MessagesFCGI"
    public static let deliveryFCGI = "DeliveryFCGI"
    public static let senderCron = "SenderCron"
    public static let textingctl = "textingctl"
    public static let adminFCGI = "AdminFCGI"
    static let everyProgram = [messagesFCGI, deliveryFCGI, adminFCGI, senderCron, textingctl]
    static let fastCGIPrograms = [messagesFCGI, deliveryFCGI, adminFCGI]

    // MARK: - The database

    public static let databaseURL = Setting<String>.required(
        "TEXTING_DATABASE_URL", "the PostgreSQL database: a libpq connection string or URI",
        example: "host=127.0.0.1 port=5432 dbname=texting user=texting password=replace-me", readBy: everyProgram,
        notes:
            "The units run under systemd's DynamicUser, so peer authentication cannot map them to a role: use a password (or a client certificate). Through PgBouncer in transaction mode works too: see TEXTING_DATABASE_DIRECT_URL and TEXTING_DATABASE_PREPARED_STATEMENTS."
    )
    public static let databaseDirectURL = Setting<String?>.optional(
        "TEXTING_DATABASE_DIRECT_URL",
        "PostgreSQL itself, when TEXTING_DATABASE_URL names a pooler in transaction mode: SenderCron connects here (its recipient holds and LISTEN live in its session), and so does `textingctl migrate` (an advisory lock); unset: TEXTING_DATABASE_URL",
        example: "host=10.0.0.10 port=5432 dbname=texting user=texting password=replace-me", readBy: [senderCron, textingctl])
    public static let preparedStatements = Setting<Bool>.onOff(
        "TEXTING_DATABASE_PREPARED_STATEMENTS",
        "`on`: each query is prepared once per connection; `off` for PgBouncer before 1.21 in transaction mode, which cannot keep named prepared statements",
        default: true, readBy: everyProgram)
    public static let statementTimeout = Setting<Int>.integer(
        "TEXTING_DATABASE_STATEMENT_TIMEOUT_MS", "`statement_timeout` of every connection in ms, 0: none (`textingctl migrate` runs without it)",
        default: 30_000, range: 0...3_600_000, readBy: everyProgram,
        notes: "The five TEXTING_DATABASE_* limits travel as libpq connection keywords after TEXTING_DATABASE_URL, so they win over the same keywords in it.")
    public static let lockTimeout = Setting<Int>.integer(
        "TEXTING_DATABASE_LOCK_TIMEOUT_MS",
        "`lock_timeout` in ms, 0: none: a statement waiting this long for a lock fails (a sender's recording round, an `invalid` report are tried again; a request is answered 503) instead of queueing",
        default: 10_000, range: 0...3_600_000, readBy: everyProgram)
    public static let idleInTransactionTimeout = Setting<Int>.integer(
        "TEXTING_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        "`idle_in_transaction_session_timeout` in ms, 0: none: the server ends a session that sits this long in an open transaction (a paused process), releasing its locks",
        default: 60_000, range: 0...3_600_000, readBy: everyProgram)
    public static let connectTimeout = Setting<Int>.integer(
        "TEXTING_DATABASE_CONNECT_TIMEOUT", "seconds to wait for a connection (libpq `connect_timeout`)",
        default: 5, range: 2...300, readBy: everyProgram)
    public static let keepalivesIdle = Setting<Int>.integer(
        "TEXTING_DATABASE_KEEPALIVES_IDLE",
        "TCP keepalives: first probe after this many idle seconds, then every third of it; 3 lost probes end the connection",
        default: 30, range: 1...7200, readBy: everyProgram)

    // MARK: - Callbacks and numbers

    public static let publicBaseURL = Setting<String>.required(
        "TEXTING_PUBLIC_BASE_URL", "where providers reach nginx (https in production); callbacks go to `<this>/messages/delivery_status`",
        example: "https://sms.example.com", readBy: [senderCron, textingctl]
    ).checked { url, invalid throws(ConfigurationError) in
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.split(separator: "/").count >= 2 else {
            throw invalid("must be an http:// or https:// URL such as https://sms.example.com; got `\(url)`")
        }
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
    public static let callbackSecret = Setting<String>.required(
        "TEXTING_CALLBACK_SECRET", "HMAC key signing callback URLs, at least \(CallbackSigner.minimumSecretLength) characters (`openssl rand -hex 32`)",
        example: "$(openssl rand -hex 32)", placeholder: "", readBy: [deliveryFCGI, senderCron, textingctl],
        notes: "Left empty in the example file on purpose: the services refuse to start until it is set."
    ).checked { secret, invalid throws(ConfigurationError) in
        guard secret.utf8.count >= CallbackSigner.minimumSecretLength else {
            throw invalid("must be at least \(CallbackSigner.minimumSecretLength) characters; make one with `openssl rand -hex 32`")
        }
        return secret
    }
    public static let callbackMaxAge = Setting<Int>.integer(
        "TEXTING_CALLBACK_MAX_AGE", "seconds a signed callback URL stays valid (604800: a week)",
        default: 7 * 24 * 3600, range: 60...(90 * 24 * 3600), readBy: [deliveryFCGI, senderCron])
    public static let providers = Setting<String>.required(
        "TEXTING_PROVIDERS",
        "the SMS providers: comma-separated `name=url` entries, each optionally followed by `;weight=N` (1-1000, default 1), `;tps=N` "
            + "(its contracted messages per second, 0.1-100000, held by all senders together; default: no limit), `;prefixes=+1,+44` "
            + "(the E.164 prefixes it takes, longest match wins; default: every number) and `;cost=N` (per segment, 0-1000; "
            + "cheaper providers are preferred). MessagesFCGI refuses numbers no provider takes (422 no_route)",
        example: "p1=https://provider-one.example/send;weight=30,p2=https://provider-two.example/send;weight=70",
        readBy: [messagesFCGI, adminFCGI, senderCron, textingctl]
    ).checked { text, _ throws(ConfigurationError) in try ProviderConfig.parseList(text) }
    public static let defaultCountryCode = Setting<String>.text(
        "TEXTING_DEFAULT_COUNTRY_CODE", "calling code (digits, no `+`) given to numbers written without `+`, e.g. 1112223333 → +11112223333",
        default: "1", readBy: [messagesFCGI, adminFCGI, textingctl]
    ).checked { text, invalid throws(ConfigurationError) in
        let code = text.trimmed
        guard PhoneNumber.isValidCountryCode(code) else { throw invalid("must be 1 to 3 digits without `+`, e.g. 1 or 44; got `\(code)`") }
        return code
    }

    // MARK: - The FastCGI processes

    public static let fastCGIThreads = Setting<Int>.integer(
        "TEXTING_FCGI_THREADS",
        "worker threads of MessagesFCGI and of DeliveryFCGI, each with its own database connection (opened when first needed); PostgreSQL's `max_connections` must cover both processes' threads, commit and read connections, AdminFCGI's threads and two per running sender",
        default: 32, range: 1...256, readBy: [messagesFCGI, deliveryFCGI], notes: "With the defaults: (32 + 2 + 1) + (32 + 1) + 4 + 2 per sender.")
    public static let adminThreads = Setting<Int>.integer(
        "TEXTING_ADMIN_FCGI_THREADS",
        "worker threads of AdminFCGI (the operator console), each with its own database connection (opened when first needed): a few operators need few",
        default: 4, range: 1...64, readBy: [adminFCGI])
    public static let commitConnections = Setting<Int>.integer(
        "TEXTING_COMMIT_CONNECTIONS",
        "connections of MessagesFCGI that commit concurrent requests' accepted messages in batches (group commit)",
        default: 2, range: 1...64, readBy: [messagesFCGI])
    public static let readConnections = Setting<Int>.integer(
        "TEXTING_READ_CONNECTIONS",
        "connections of MessagesFCGI that read concurrent requests' `GET /messages/{id}` in batches (group reads): one statement answers them all, so one connection's larger batches cost PostgreSQL less",
        default: 1, range: 1...64, readBy: [messagesFCGI])
    public static let reportCommitConnections = Setting<Int>.integer(
        "TEXTING_REPORT_COMMIT_CONNECTIONS",
        "connections of DeliveryFCGI that commit concurrent delivery reports in batches (group commit); the reports' statement is parsed and planned once per batch, so one connection's larger batches cost PostgreSQL less",
        default: 1, range: 1...64, readBy: [deliveryFCGI])

    // MARK: - textingctl

    public static let migrationsDirectory = Setting<String>.text(
        "TEXTING_MIGRATIONS_DIR", "folder of numbered `.sql` migrations that `textingctl migrate` applies (relative to the working directory)",
        default: "migrations", readBy: [textingctl],
        notes: "texting-migrate.service sets it already: set it here only for textingctl by hand.", example: "/usr/local/share/texting/migrations")

    // MARK: - The sender

    public static let senderRunSeconds = Setting<Int>.integer(
        "TEXTING_SENDER_RUN_SECONDS", "how long one SenderCron run lasts before it exits and its timer starts the next",
        default: 55, range: 1...3600, readBy: [senderCron], notes: "Keep it well below the TimeoutStartSec=120 of texting-sender.service.")
    public static let senderBatchSize = Setting<Int>.integer(
        "TEXTING_SENDER_BATCH_SIZE", "due jobs one sender claims per query", default: 100, range: 1...1000, readBy: [senderCron])
    public static let senderConcurrency = Setting<Int>.integer(
        "TEXTING_SENDER_CONCURRENCY", "provider requests one sender keeps in flight at once", default: 200, range: 1...2000, readBy: [senderCron])
    public static let providerTimeout = Setting<Int>.integer(
        "TEXTING_PROVIDER_TIMEOUT_MS", "milliseconds a provider has to answer a send before it counts as a temporary failure",
        default: 5000, range: 100...120_000, readBy: [senderCron])
    public static let senderLease = Setting<Int?>.integer(
        "TEXTING_SENDER_LEASE_SECONDS",
        "how long a claimed job stays with its sender before another may take it; a sender whose lease was taken records nothing for it",
        derived: "2 × provider timeout + 30", example: "40", range: 1...86_400, readBy: [senderCron])
    public static let backoffBase = Setting<Int>.integer(
        "TEXTING_BACKOFF_BASE_MS", "first retry delay in ms: base × 2^(attempt−1), capped by TEXTING_BACKOFF_MAX_MS, with jitter (half fixed, half random)",
        default: 2000, range: 0...3_600_000, readBy: [senderCron])
    public static let backoffMaximum = Setting<Int>.integer(
        "TEXTING_BACKOFF_MAX_MS", "ceiling of any retry delay in ms, at least TEXTING_BACKOFF_BASE_MS",
        default: 600_000, range: 0...86_400_000, readBy: [senderCron])
    public static let maximumAttempts = Setting<Int>.integer(
        "TEXTING_MAX_ATTEMPTS", "send attempts before a message fails with `retries_exhausted`", default: 6, range: 1...100, readBy: [senderCron])
    public static let breakerFailures = Setting<Int>.integer(
        "TEXTING_BREAKER_FAILURES", "temporary failures in a row (5xx, 429, timeouts) that open a provider's circuit breaker: every sender skips it",
        default: 5, range: 1...10_000, readBy: [senderCron])
    public static let breakerCooldown = Setting<Int>.integer(
        "TEXTING_BREAKER_COOLDOWN_SECONDS", "how long every sender skips a provider whose breaker opened; then it is tried again",
        default: 30, range: 1...3600, readBy: [senderCron])

    // MARK: - History

    public static let retentionDays = Setting<Int>.integer(
        "TEXTING_RETENTION_DAYS",
        "days messages, their delivery reports, events and webhook attempts are kept, 0: for ever. Stored in spans of about 25 days: a span goes whole once its newest row is this old (so up to 25 days later), except while one of its messages is still queued or one of its events still waits for a webhook delivery",
        default: 0, range: 0...36_500, readBy: [senderCron, textingctl],
        notes: "Every sender, at the end of each run, makes the spans ahead and drops those past retention; so does `textingctl partitions maintain`.")
    public static let retentionAfterExport = Setting<Bool>.onOff(
        "TEXTING_RETENTION_AFTER_EXPORT",
        "`on`: a span past retention is dropped only once `textingctl messages export --before DATE` has written out every message in it (DATE at or after the span's end)",
        default: false, readBy: [senderCron, textingctl])

    /// The retention the settings ask for; nil keeps every message.
    public static func retention(_ environment: EnvironmentReader) throws(ConfigurationError) -> History.Retention? {
        let days = try retentionDays.read(environment)
        return days == 0 ? nil : History.Retention(days: days, afterExport: try retentionAfterExport.read(environment))
    }

    // MARK: - Webhooks

    public static let webhookAllowHTTP = Setting<Bool>.onOff(
        "TEXTING_WEBHOOK_ALLOW_HTTP", "`on`: webhook URLs (endpoints, `status_callback`) may be plain http://; `off`: https:// only",
        default: false, readBy: [messagesFCGI, senderCron, textingctl])
    public static let webhookDestinations = Setting<String>.text(
        "TEXTING_WEBHOOK_DESTINATIONS",
        "where webhooks may go: `public` (public addresses only), `private` (also loopback and private addresses, 127/8, 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7: receivers on your own network), `local` (this machine only: 127/8, ::1 and `localhost`, for development and tests, where nothing may leave the machine); link-local, metadata, multicast and reserved addresses are refused in every mode",
        default: "public", readBy: [messagesFCGI, senderCron, textingctl],
        notes:
            "Checked when a URL is given and again for every address the sender connects to, so a host name that later resolves to a refused address is refused too."
    ).checked { (value, invalid) throws(ConfigurationError) -> NetworkDestinationRules in
        switch value.lowercased() {
        case "public": return .publicOnly
        case "private": return .privateToo
        case "local": return .localOnly
        default: throw invalid("must be public, private or local; got `\(value.prefix(40))`")
        }
    }
    public static let webhookConcurrency = Setting<Int>.integer(
        "TEXTING_WEBHOOK_CONCURRENCY", "webhook requests one sender keeps in flight at once", default: 128, range: 1...1000, readBy: [senderCron])
    public static let webhookTimeout = Setting<Int>.integer(
        "TEXTING_WEBHOOK_TIMEOUT_MS", "milliseconds a client's endpoint has to answer a webhook before the attempt counts as failed",
        default: 10_000, range: 100...60_000, readBy: [senderCron])
    public static let webhookBackoffBase = Setting<Int>.integer(
        "TEXTING_WEBHOOK_BACKOFF_BASE_MS", "first webhook retry delay in ms: base × 2^(attempt−1), capped by TEXTING_WEBHOOK_BACKOFF_MAX_MS, with jitter",
        default: 5000, range: 0...3_600_000, readBy: [senderCron])
    public static let webhookBackoffMaximum = Setting<Int>.integer(
        "TEXTING_WEBHOOK_BACKOFF_MAX_MS", "ceiling of any webhook retry delay in ms (6 hours)", default: 21_600_000, range: 0...86_400_000, readBy: [senderCron]
    )
    public static let webhookRetryHours = Setting<Int>.integer(
        "TEXTING_WEBHOOK_RETRY_HOURS", "hours an event is retried to a destination before it is given up there (it stays in GET /events)",
        default: 72, range: 1...720, readBy: [senderCron])
    public static let webhookDisableAfterHours = Setting<Int>.integer(
        "TEXTING_WEBHOOK_DISABLE_AFTER_HOURS", "hours an endpoint may fail without one success before it is disabled (its owner sees why)",
        default: 72, range: 1...720, readBy: [senderCron])

    // MARK: - Recipients' replies

    public static let optOutKeywords = keywordList(
        "TEXTING_OPT_OUT_KEYWORDS", "replies that put the number on the opt-out list (a whole reply, any case, trailing . ! ? ignored)",
        RecipientKeywords.defaultOptOut)
    public static let optInKeywords = keywordList(
        "TEXTING_OPT_IN_KEYWORDS", "replies that take the number off the opt-out list", RecipientKeywords.defaultOptIn)
    public static let helpKeywords = keywordList("TEXTING_HELP_KEYWORDS", "replies answered with TEXTING_HELP_REPLY", RecipientKeywords.defaultHelp)
    public static let optOutReply = reply(
        "TEXTING_OPT_OUT_REPLY", "the confirmation sent to a number that opted out: the one message that may still reach it",
        "You are unsubscribed and will receive no more messages. Reply START to subscribe again.")
    public static let optInReply = reply(
        "TEXTING_OPT_IN_REPLY", "the confirmation sent to a number that opted in again", "You are subscribed again. Reply STOP to unsubscribe.")
    public static let helpReply = reply(
        "TEXTING_HELP_REPLY", "the answer to a help keyword (carriers expect who you are and how to reach you)",
        "Reply STOP to unsubscribe, START to subscribe again.")

    private static func keywordList(_ name: String, _ meaning: String, _ fallback: [String]) -> Setting<[String]> {
        Setting<String>.text(name, meaning + ", comma-separated", default: fallback.joined(separator: ","), readBy: [deliveryFCGI])
            .checked { (text, _) throws(ConfigurationError) -> [String] in
                text.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
            }
    }

    private static func reply(_ name: String, _ meaning: String, _ fallback: String) -> Setting<MessageBody?> {
        Setting<String>.text(name, meaning + "; `none`: no answer", default: fallback, readBy: [deliveryFCGI])
            .checked { (text, invalid) throws(ConfigurationError) -> MessageBody? in
                guard text.lowercased() != "none" else { return nil }
                do throws(ValidationError) {
                    return try MessageBody(validating: text)
                } catch {
                    throw invalid("must be a message the service can send: \(error.detail)")
                }
            }
    }

    /// The three keyword lists, checked together (a word may mean one thing).
    public static func recipientKeywords(_ environment: EnvironmentReader) throws(ConfigurationError) -> RecipientKeywords {
        let optOut = try optOutKeywords.read(environment)
        let optIn = try optInKeywords.read(environment)
        let help = try helpKeywords.read(environment)
        do throws(ValidationError) {
            return try RecipientKeywords(optOut: optOut, optIn: optIn, help: help)
        } catch {
            throw ConfigurationError(setting: optOutKeywords.name, problem: error.detail)
        }
    }

    /// Every setting of the service, in the order the README, the example file and `--help`
    /// list them.
    public static let all: [SettingDescription] = [
        databaseURL.description, databaseDirectURL.description, publicBaseURL.description, callbackSecret.description, providers.description,
        preparedStatements.description, statementTimeout.description, lockTimeout.description, idleInTransactionTimeout.description,
        connectTimeout.description, keepalivesIdle.description, callbackMaxAge.description, defaultCountryCode.description,
        FastCGISettings.socket.description, FastCGISettings.listen.description, FastCGISettings.peers.description, fastCGIThreads.description,
        adminThreads.description, commitConnections.description, readConnections.description, reportCommitConnections.description,
        migrationsDirectory.description,
        senderRunSeconds.description, senderBatchSize.description, senderConcurrency.description, providerTimeout.description,
        senderLease.description, backoffBase.description, backoffMaximum.description, maximumAttempts.description,
        breakerFailures.description, breakerCooldown.description, retentionDays.description, retentionAfterExport.description,
        webhookAllowHTTP.description, webhookDestinations.description,
        webhookConcurrency.description, webhookTimeout.description, webhookBackoffBase.description, webhookBackoffMaximum.description,
        webhookRetryHours.description, webhookDisableAfterHours.description, optOutKeywords.description, optInKeywords.description,
        helpKeywords.description, optOutReply.description, optInReply.description, helpReply.description,
    ]

    /// The settings `program` reads, for its `--help`.
    public static func read(by program: String) -> [SettingDescription] {
        all.filter { $0.readers.contains(program) }
    }
}

extension ServiceSettings {
    /// The README's settings table (`textingctl settings table`).
    public static var markdownTable: String {
        SettingsDocument.markdownTable(all, readers: readerLabel)
    }

    /// `deploy/texting.env.example` (`textingctl settings example`).
    public static var exampleFile: String {
        SettingsDocument.exampleFile(header: exampleHeader, all)
    }

    /// "all", "FastCGI processes", or the programs by name.
    static func readerLabel(_ readers: [String]) -> String {
        if Set(readers) == Set(everyProgram) { return "all" }
        if Set(readers).subtracting(["MockProvider"]) == Set(fastCGIPrograms) { return "FastCGI processes" }
        return readers.filter { $0 != "MockProvider" }.map { $0 == senderCron ? "sender" : $0 }.sorted().joined(separator: ", ")
    }

    static let exampleHeader = [
        "Settings of the texting service, printed by `textingctl settings example` from the declarations the programs read.",
        "Install as /etc/texting/texting.env, readable by root only (it holds the database password and the callback secret; systemd reads it as root before it starts each unit's dynamic user):",
        "    sudo install -d -m 0700 -o root -g root /etc/texting",
        "    sudo install -m 0600 -o root -g root texting.env.example /etc/texting/texting.env",
        "One KEY=value per line, no quotes. Every process checks its settings at start and exits with one line naming the bad one; `<program> --help` lists the settings each program reads.",
        "",
        "The required settings come first: edit them. The others are commented out at their defaults (or at an example where unset is the default): uncomment a line to change it.",
    ]
}
