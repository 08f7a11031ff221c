import TextingSupport

/// The mock provider's `MOCK_*` settings, declared once: `MockProviderSettings` and the
/// executable read through these, `--help` prints them.
public enum MockSettings {
    static let readers = ["MockProvider"]

    public static let name = Setting<String>.text("MOCK_NAME", "the name it reports in /_mock/stats", default: "mock", readBy: readers)
    public static let threads = Setting<Int>.integer("MOCK_THREADS", "FastCGI worker threads", default: 32, range: 1...512, readBy: readers)
    public static let latency = Setting<Int>.integer("MOCK_LATENCY_MS", "added to every /send answer", default: 0, range: 0...60_000, readBy: readers)
    public static let failureRate = share("MOCK_FAILURE_RATE", "share of sends answered 500")
    public static let rateLimitRate = share("MOCK_RATE_LIMIT_RATE", "share of sends answered 429")
    public static let rejectRate = share("MOCK_REJECT_RATE", "share of sends answered 400, a permanent rejection")
    public static let tps = Setting<Int>.integer(
        "MOCK_TPS",
        "the provider's contracted rate: sends beyond it are answered 429 (a token bucket of this many per second holding a fifth of a second's worth); "
            + "0: no limit",
        default: 0, range: 0...1_000_000, readBy: readers)
    public static let retryAfter = Setting<Int>.integer(
        "MOCK_RETRY_AFTER_SECONDS", "Retry-After of the 429 answers", default: 1, range: 0...3600, readBy: readers)
    public static let callbackDelay = Setting<Int>.integer(
        "MOCK_CALLBACK_DELAY_MS", "delay before the delivery callback; -1: no callback", default: 200, range: -1...3_600_000, readBy: readers)
    public static let callbackStatuses = Setting<String>.text(
        "MOCK_CALLBACK_STATUSES", "weights of the reported statuses, e.g. delivered=90,failed=5,invalid=5", default: "delivered=100", readBy: readers
    ).checked { text, invalid throws(ConfigurationError) in
        guard let statuses = MockProviderSettings.parseStatuses(text) else { throw invalid("must look like delivered=90,failed=5,invalid=5; got `\(text)`") }
        return statuses
    }
    public static let inboundURL = Setting<String?>.optional(
        "MOCK_INBOUND_URL",
        "the service's signed URL for this provider's inbound messages (`textingctl providers inbound-url`); POST /_mock/inbound relays a recipient's reply there",
        example: "http://127.0.0.1:8080/messages/inbound?prv=p1&sig=…", readBy: readers)
    public static let callbackEarly = Setting<String>.text(
        "MOCK_CALLBACK_EARLY", "1: the callback overtakes the answer to /send", default: "0", readBy: readers
    ).checked { text, _ in text == "1" }

    /// A share of the sends, from 0 to 1.
    private static func share(_ name: String, _ meaning: String) -> Setting<Double> {
        Setting(SettingDescription(name, meaning + " (0-1)", default: .value("0", example: nil), readers: readers)) { text throws(ConfigurationError) in
            guard let text else { return 0 }
            guard let value = Double(text), (0...1).contains(value) else {
                throw ConfigurationError(setting: name, problem: "must be a number from 0 to 1; got `\(text)`")
            }
            return value
        }
    }
}
