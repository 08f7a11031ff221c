import TextingFastCGI
import TextingSupport

/// The mock provider's `--help`: its description and its own settings, kept with the mock
/// (the service's programs and settings are TextingService's ProgramCatalog and SettingCatalog).
public enum MockProviderProgram {
    public static let description = ProgramDescription(
        name: "MockProvider",
        summary: "a stand-in SMS provider (FastCGI behind nginx) for development and tests, honouring the provider contract.",
        usage: ["MockProvider"],
        details: [
            "Serves POST /send, and GET /_mock/stats, GET /_mock/sends (when each send to each number arrived), POST /_mock/config, POST /_mock/reset to read and change its behaviour at run time, and POST /_mock/inbound {\"from\", \"message\"} to play a recipient replying (relayed to MOCK_INBOUND_URL). Listens on TEXTING_FCGI_SOCKET (or the socket on standard input). SIGTERM or SIGINT: finishes the requests in hand, then exits 0 (a second one meanwhile is ignored). A bad setting: one line naming it, exit 1."
        ],
        settings: [FastCGISettings.socket.description] + settings)

    /// The mock provider's own settings (development and tests only), in `--help` order.
    public static let settings: [SettingDescription] = [
        MockSettings.name.description, MockSettings.threads.description, MockSettings.latency.description, MockSettings.failureRate.description,
        MockSettings.rateLimitRate.description, MockSettings.rejectRate.description, MockSettings.retryAfter.description,
        MockSettings.callbackDelay.description, MockSettings.callbackStatuses.description, MockSettings.callbackEarly.description,
        MockSettings.inboundURL.description,
    ]
}
