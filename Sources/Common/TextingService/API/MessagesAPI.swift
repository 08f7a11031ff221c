import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

/// The client API (MessagesFCGI): `/messages`, `/events`, and the routing, authentication,
/// input checks and answers they share.
public struct MessagesAPI: Sendable {
    public let defaultCountryCode: String
    /// Where webhook URLs (endpoints, `status_callback`) may point.
    public let webhookRules: WebhookURLRules
    /// The providers as configured here: a number none of them takes is refused with
    /// `no_route` (empty: not checked; the sender fails such a message anyway).
    public let providers: [ProviderConfig]
    /// Commits the messages of concurrent `POST /messages` together (group commit).
    let acceptor: MessageAcceptor
    /// Reads the messages of concurrent `GET /messages/{id}` together (group reads).
    let reader: MessageReader
    /// The keys `POST /messages` has seen, so that it skips their lookup.
    private let keys = APIKeyCache()

    public init(
        defaultCountryCode: String, webhookRules: WebhookURLRules = WebhookURLRules(), providers: [ProviderConfig] = [], acceptor: MessageAcceptor,
        reader: MessageReader
    ) {
        self.defaultCountryCode = defaultCountryCode
        self.webhookRules = webhookRules
        self.providers = providers
        self.acceptor = acceptor
        self.reader = reader
    }

    /// Answers one request on the calling worker's own connection.
    public func handle(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch segments.count {
        case 1 where segments[0] == "healthz":
            // No API key: nginx lets only local clients reach it (deploy/nginx.conf).
            try allow(request, ["GET", "HEAD"])
            return try health(connection: connection)
        case 1 where segments[0] == "metrics":
            // No API key: nginx lets only local scrapers reach it (deploy/nginx.conf).
            try allow(request, ["GET", "HEAD"])
            let text = try MetricsStore(connection: connection).prometheusText()
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: Array(text.utf8))
        case 1 where segments[0] == "messages":
            // Creating trusts a remembered key: the statement that stores checks revocation.
            // Not with an Idempotency-Key, whose replay stores nothing and so checks nothing.
            let remembered = request.method == "POST" && request.header("idempotency-key") == nil
            let owner = try authenticate(request, connection: connection, remembered: remembered)
            try allow(request, ["GET", "HEAD", "POST"])
            return request.method == "POST"
                ? try create(request, owner: owner, connection: connection)
                : try list(request, owner: owner, connection: connection)
        case 2 where segments[0] == "messages" && segments[1] == "batch":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["POST"])
            return try createBatch(request, owner: owner, connection: connection)
        case 2 where segments[0] == "messages":
            // Reading trusts a remembered key: the statement that reads checks revocation. An
            // id that is no UUID reads nothing, so its key is looked up as for other requests.
            let id = UUID(uuidString: segments[1])
            let owner = try authenticate(request, connection: connection, remembered: id != nil)
            try allow(request, ["GET", "HEAD"])
            guard let id else { throw Self.noSuchMessage(segments[1]) }
            return .json(200, try read(id, owner: owner, connection: connection).json)
        case 3 where segments[0] == "messages" && segments[2] == "cancel":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["POST"])
            return try cancel(segments[1], owner: owner, connection: connection)
        case 1 where segments[0] == "events":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD"])
            return try EventsAPI().list(request, owner: owner, connection: connection)
        case 2 where segments[0] == "events":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD"])
            return try EventsAPI().find(segments[1], owner: owner, connection: connection)
        case 1 where segments[0] == "webhook_endpoints":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD", "POST"])
            let webhooks = WebhooksAPI(rules: webhookRules)
            return request.method == "POST"
                ? try webhooks.create(request, owner: owner, connection: connection) : try webhooks.list(owner: owner, connection: connection)
        case 2 where segments[0] == "webhook_endpoints":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD", "DELETE"])
            let webhooks = WebhooksAPI(rules: webhookRules)
            return request.method == "DELETE"
                ? try webhooks.delete(segments[1], owner: owner, connection: connection)
                : try webhooks.find(segments[1], owner: owner, connection: connection)
        case 3 where segments[0] == "webhook_endpoints" && segments[2] == "rotate_secret":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["POST"])
            return try WebhooksAPI(rules: webhookRules).rotateSecret(segments[1], request, owner: owner, connection: connection)
        case 3 where segments[0] == "webhook_endpoints" && segments[2] == "enable":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["POST"])
            return try WebhooksAPI(rules: webhookRules).enable(segments[1], owner: owner, connection: connection)
        case 3 where segments[0] == "webhook_endpoints" && segments[2] == "deliveries":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD"])
            return try WebhooksAPI(rules: webhookRules).deliveries(segments[1], request, owner: owner, connection: connection)
        case 1 where segments[0] == "usage":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["GET", "HEAD"])
            return try usage(owner: owner, connection: connection)
        case 1 where segments[0] == "webhook_secret":
            let owner = try authenticate(request, connection: connection)
            try allow(request, ["POST"])
            return try WebhooksAPI(rules: webhookRules).rotateKeySecret(request, owner: owner, connection: connection)
        default:
            throw Problem(
                .notFound,
                "There is nothing at \(request.path.prefix(100)); the API serves /messages, /messages/batch, /messages/{id}, /messages/{id}/cancel, /events, /events/{id}, /webhook_endpoints, /webhook_endpoints/{id}, /webhook_endpoints/{id}/rotate_secret, /webhook_endpoints/{id}/enable, /webhook_endpoints/{id}/deliveries, /webhook_secret and /usage."
            )
        }
    }

    private func allow(_ request: HTTPServerRequest, _ methods: [String]) throws(Problem) {
        guard methods.contains(request.method) else {
            throw Problem.methodNotAllowed(request.method, allowed: methods.filter { $0 != "HEAD" })
        }
    }

    /// The owner of the request's `Authorization: Bearer` key; 401 otherwise.
    private func authenticate(_ request: HTTPServerRequest, connection: PostgresConnection, remembered: Bool = false) throws -> Int64 {
        guard let header = request.header("authorization") else {
            throw Problem(
                .unauthorized, "Send your API key as `Authorization: Bearer <key>`.",
                headers: [("WWW-Authenticate", "Bearer realm=\"texting\"")])
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw Self.invalidKey }
        let secret = parts[1].trimmed
        let owner =
            remembered
            ? try keys.owner(secret: secret, connection: connection)
            : try APIKeyStore(connection: connection).authenticate(secret: secret)
        guard let owner else { throw Self.invalidKey }
        return owner
    }

    static let invalidKey = Problem(
        .unauthorized, "The API key is unknown or revoked; send a valid key as `Authorization: Bearer <key>`.",
        headers: [("WWW-Authenticate", "Bearer realm=\"texting\", error=\"invalid_token\"")])

    private func create(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let json = try request.jsonObject()
        let message = try Problem.validating { () throws(ValidationError) in
            try NewMessage(json: json, defaultCountryCode: defaultCountryCode, webhookRules: webhookRules)
        }
        var keySecret = KeySecretCheck(owner: owner)
        try check(message, keySecret: &keySecret, connection: connection)
        guard let idempotencyKey = try Self.idempotencyKey(request) else {
            return try answer(acceptor.accept(MessageStore.Acceptance(message, owner: owner)), message)
        }
        // The fingerprint is of the parsed body, so whitespace and key order do not matter.
        let fingerprint = Digest.sha256Hex(JSONValue.object(json).serialized())
        return try connection.transaction { connection in
            let idempotency = IdempotencyStore(connection: connection)
            switch try idempotency.claim(owner: owner, key: idempotencyKey, fingerprint: fingerprint) {
            case .differentRequest, .sameBatch:
                throw Self.idempotencyKeyReused
            case .sameRequest(let messageID):
                guard let uuid = UUID(uuidString: messageID), let record = try MessageStore(connection: connection).find(id: uuid, owner: owner) else {
                    throw Problem(.internalError, "The message this Idempotency-Key created cannot be found.")
                }
                return .json(201, record.json, headers: [("Location", "/messages/\(record.id)"), ("Idempotent-Replayed", "true")])
            case .none:
                // On this connection, inside the transaction that holds the key.
                let outcome = try MessageStore(connection: connection).accept([MessageStore.Acceptance(message, owner: owner)])[0]
                let response = try answer(outcome, message)  // throws for anything but an acceptance
                if case .accepted(let record) = outcome {
                    try idempotency.complete(owner: owner, key: idempotencyKey, messageID: record.id)
                }
                return response
            }
        }
    }

    /// Whether the key has a status-callback secret, looked up once per request.
    struct KeySecretCheck {
        let owner: Int64
        var known: Bool?
    }

    /// What a checked message must still pass before it is stored: a provider that takes its
    /// number, and the key's secret if it has a `status_callback`.
    func check(_ message: NewMessage, keySecret: inout KeySecretCheck, connection: PostgresConnection) throws {
        if !providers.isEmpty, !ProviderConfig.someone(of: providers, takes: message.to.e164) {
            throw Problem(
                .noRoute,
                "No provider this service sends through takes numbers like \(message.to.e164) (their prefixes: "
                    + "\(Set(providers.flatMap(\.prefixes)).sorted().joined(separator: ", "))); nothing was stored.",
                field: "to_number")
        }
        if message.statusCallback != nil {
            let has = try keySecret.known ?? WebhookEndpointStore(connection: connection).hasKeySecret(owner: keySecret.owner)
            keySecret.known = has
            if !has {
                throw Problem(
                    .invalidWebhookURL,
                    "Deliveries to `status_callback` are signed with your key's status-callback secret, and your key has none yet: make it once with POST /webhook_secret.",
                    field: "status_callback")
            }
        }
    }

    static let idempotencyKeyReused = Problem(
        .idempotencyKeyReused, "This Idempotency-Key was used in the last 24 hours with a different body; use a new key for a new request.",
        field: "Idempotency-Key")

    func answer(_ outcome: MessageStore.Outcome, _ message: NewMessage) throws(Problem) -> HTTPServerResponse {
        if case .accepted(let record) = outcome {
            return .json(201, record.json, headers: [("Location", "/messages/\(record.id)")])
        }
        throw Self.refusal(outcome, message)
    }

    /// Why a message was not stored, as the problem its request is answered with (a revoked
    /// key's is the 401 every request of it gets).
    static func refusal(_ outcome: MessageStore.Outcome, _ message: NewMessage) -> Problem {
        switch outcome {
        case .accepted:
            return Problem(.internalError, "The message was stored, not refused.")
        case .phoneNumberInactive:
            return Problem(
                .phoneNumberInactive, "\(message.to.e164) is inactive: a provider reported it invalid, so nothing more is sent to it.", field: "to_number")
        case .recipientOptedOut:
            return Problem(
                .recipientOptedOut,
                "\(message.to.e164) opted out (its recipient replied STOP, or an operator put it on the opt-out list): nothing is sent to it until it opts in again.",
                field: "to_number")
        case .keyRevoked:
            return Self.invalidKey
        case .senderNotAllowed:
            return Problem(
                .senderNotAllowed,
                "This API key may not send from `\(message.from?.text ?? "")`: an operator allows senders per key (`textingctl keys senders add`); nothing was stored.",
                field: "from")
        case .rateLimited(let seconds):
            return Problem(
                .rateLimited, "This API key's rate is spent for now: send again in \(seconds) s (`Retry-After`); nothing was stored.",
                headers: [("Retry-After", String(seconds))])
        case .quotaExceeded(let period, let limit, let seconds):
            return Problem(
                .quotaExceeded,
                "This API key's quota of \(limit) segments this \(period) (UTC) is spent: it resets in \(seconds) s (`Retry-After`); nothing was stored. GET /usage shows what is left.",
                headers: [("Retry-After", String(seconds))])
        }
    }

    /// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
    static func idempotencyKey(_ request: HTTPServerRequest) throws(Problem) -> String? {
        guard let key = request.header("idempotency-key") else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem(.invalidIdempotencyKey, "`Idempotency-Key` must be 1 to 255 visible ASCII characters, e.g. a UUID.", field: "Idempotency-Key")
        }
        return key
    }

    /// `GET /messages/{id}` for an owner whose key was remembered: 401 if it has been revoked since.
    private func read(_ id: UUID, owner: Int64, connection: PostgresConnection) throws -> MessageRecord {
        switch try reader.read(id: id, owner: owner, connection: connection) {
        case .found(let record): return record
        case .notFound: throw Self.noSuchMessage(id.uuidString.lowercased())
        case .keyNotActive: throw Self.invalidKey
        }
    }

    static func noSuchMessage(_ id: String) -> Problem {
        Problem(.notFound, "No message of yours has the id `\(id.prefix(40))`.")
    }

    private func cancel(_ id: String, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let uuid = UUID(uuidString: id) else {
            throw Self.noSuchMessage(id)
        }
        switch try MessageStore(connection: connection).cancel(id: uuid, owner: owner) {
        case .canceled(let record):
            return .json(200, record.json)
        case .notCancelable(let status):
            throw Problem(.messageNotCancelable, "The message is \(status.rawValue); only a queued message that no sender has tried yet can be canceled.")
        case .notFound:
            throw Self.noSuchMessage(id)
        }
    }

    private func list(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let query = try Problem.validating { () throws(ValidationError) in
            try MessageListQuery(parameters: request.queryParameters, defaultCountryCode: defaultCountryCode)
        }
        let page = try MessageStore(connection: connection).list(
            owner: owner, toNumber: query.toNumber, status: query.status, clientRef: query.clientRef, before: query.before, limit: query.limit)
        let next: JSONValue = page.next.map { .string(MessageListQuery.cursor(before: $0)) } ?? .null
        return .json(200, ["messages": .array(page.records.map(\.json)), "next_after": next])
    }

    /// The key's usage this UTC day and month, with its limits and what they leave.
    private func usage(owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let usage = try KeyLimitsStore(connection: connection).usage(owner: owner) else { throw Self.invalidKey }
        func period(_ start: String, messages: Int, segments: Int, quota: Int?, remaining: Int?, resetsAt: String) -> JSONValue {
            [
                "start": .string(start), "messages": .number(Double(messages)), "segments": .number(Double(segments)),
                "segment_quota": quota.map { .number(Double($0)) } ?? .null, "segments_remaining": remaining.map { .number(Double($0)) } ?? .null,
                "resets_at": .string(resetsAt),
            ]
        }
        let rate: JSONValue =
            usage.limits.rate.map { ["messages_per_second": .number($0), "burst": .number(Double(usage.limits.burst ?? 0))] } ?? .null
        return .json(
            200,
            [
                "day": period(
                    usage.day, messages: usage.dayMessages, segments: usage.daySegments, quota: usage.limits.segmentsPerDay, remaining: usage.dayRemaining,
                    resetsAt: usage.dayResetsAt),
                "month": period(
                    usage.month, messages: usage.monthMessages, segments: usage.monthSegments, quota: usage.limits.segmentsPerMonth,
                    remaining: usage.monthRemaining, resetsAt: usage.monthResetsAt),
                "rate": rate,
            ])
    }

    /// 200 `{"status":"ok","database":"ok"}`, or 503 naming what is down: this process
    /// answers, so the only thing that can be is the database.
    private func health(connection: PostgresConnection) throws(Problem) -> HTTPServerResponse {
        do {
            try DatabaseHealth(connection: connection).check()
        } catch {
            Log.warning("healthz: database unreachable: \(error)")
            throw Self.databaseDown
        }
        return .json(200, ["status": "ok", "database": "ok"])
    }

    static let databaseDown = Problem(
        .serviceUnavailable, "database unreachable: MessagesFCGI is running but cannot reach PostgreSQL (TEXTING_DATABASE_URL).",
        headers: [("Retry-After", "5")])
}
