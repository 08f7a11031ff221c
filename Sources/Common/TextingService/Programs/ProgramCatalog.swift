import TextingSupport

/// The six executables, described once: what `--help` and `--version` print.
public enum ProgramCatalog {
    private static let fastCGIDetails = [
        "Listens on TEXTING_FCGI_SOCKET, or on the listening socket systemd passes on standard input (socket activation, StandardInput=socket). Logs one line per request (request id, method, path, status, duration) and per event on standard error. SIGTERM or SIGINT: finishes the requests in hand, then exits 0 (a second one meanwhile is ignored). A bad setting: one line naming it, exit 1."
    ]

    public static let messagesFCGI = ProgramDescription(
        name: ServiceSettings.messagesFCGI,
        summary: "the client API (/messages, /healthz, /metrics) as a FastCGI responder behind nginx.",
        usage: ["MessagesFCGI"],
        details: fastCGIDetails,
        settings: ServiceSettings.read(by: ServiceSettings.messagesFCGI))

    public static let deliveryFCGI = ProgramDescription(
        name: ServiceSettings.deliveryFCGI,
        summary: "providers' delivery reports (POST /messages/delivery_status) as a FastCGI responder behind nginx.",
        usage: ["DeliveryFCGI"],
        details: fastCGIDetails,
        settings: ServiceSettings.read(by: ServiceSettings.deliveryFCGI))

    public static let adminFCGI = ProgramDescription(
        name: ServiceSettings.adminFCGI,
        summary: "the operator console (/admin: queue, failures, requeues, keys, audit log) as a FastCGI responder behind nginx.",
        usage: ["AdminFCGI"],
        details: fastCGIDetails + [
            "Operators sign in with a token from `textingctl operators create NAME`; nginx admits only the addresses its /admin location allows."
        ],
        settings: ServiceSettings.read(by: ServiceSettings.adminFCGI))

    public static let senderCron = ProgramDescription(
        name: ServiceSettings.senderCron,
        summary: "one run of the sender: claims due jobs and sends them to the SMS providers.",
        usage: ["SenderCron [--once]"],
        details: [
            "Runs for TEXTING_SENDER_RUN_SECONDS, woken by LISTEN/NOTIFY when work arrives, then exits for its systemd timer to start the next run; ends with one summary line. SIGTERM: claims nothing more, records what is in flight, exits 0. A bad setting: one line naming it, exit 1."
        ],
        options: [("--once", "send what is due now, then exit")],
        settings: ServiceSettings.read(by: ServiceSettings.senderCron))

    public static let textingctl = ProgramDescription(
        name: ServiceSettings.textingctl,
        summary: "the operator's command line for the texting service.",
        usage: AdminCommand.usageLines,
        details: [
            "Results go to standard output, errors to standard error as one line; exit status 0 on success, 1 when the command could not be carried out, 2 for a malformed command. Load the services' settings first, e.g. `set -a; . /etc/texting/texting.env; set +a`."
        ],
        settings: ServiceSettings.read(by: ServiceSettings.textingctl),
        takesCommands: true)
}
