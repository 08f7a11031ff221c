import TextingFastCGI
import TextingSupport

/// The mock provider's `--help`: its description and its own settings, kept with the mock
/// (the service's programs and settings are TextingService's ProgramCatalog and SettingCatalog).
public enum MockProviderProgram {
    public static let description = ProgramDescription(
        name: "MockProvider",
        summary: "a stand-in SMS provider (FastCGI behind nginx) for development and tests, honouring the provider contract.",
        usage: ["MockProvider"],
        details: ["Serves POST /send, and GET /_mock/stats, POST /_mock/config, POST /_mock/reset to read and change its behaviour at run time. Listens on TEXTING_FCGI_SOCKET (or the socket on standard input). SIGTERM or SIGINT: finishes the requests in hand, then exits 0 (a second one meanwhile is ignored). A bad setting: one line naming it, exit 1."],
        settings: [FastCGISettings.socket] + settings)

    /// The mock provider's own settings (development and tests only).
    public static let settings: [SettingDescription] = [
        SettingDescription("MOCK_NAME", "the name it reports in /_mock/stats", default: "mock"),
        SettingDescription("MOCK_THREADS", "FastCGI worker threads (1-512)", default: "32"),
        SettingDescription("MOCK_LATENCY_MS", "added to every /send answer (0-60000)", default: "0"),
        SettingDescription("MOCK_FAILURE_RATE", "share of sends answered 500 (0-1)", default: "0"),
        SettingDescription("MOCK_RATE_LIMIT_RATE", "share of sends answered 429 (0-1)", default: "0"),
        SettingDescription("MOCK_REJECT_RATE", "share of sends answered 400, a permanent rejection (0-1)", default: "0"),
        SettingDescription("MOCK_RETRY_AFTER_SECONDS", "Retry-After of the 429 answers (0-3600)", default: "1"),
        SettingDescription("MOCK_CALLBACK_DELAY_MS", "delay before the delivery callback; -1: no callback", default: "200"),
        SettingDescription("MOCK_CALLBACK_STATUSES", "weights of the reported statuses, e.g. delivered=90,failed=5,invalid=5", default: "delivered=100"),
        SettingDescription("MOCK_CALLBACK_EARLY", "1: the callback overtakes the answer to /send", default: "0"),
    ]
}
