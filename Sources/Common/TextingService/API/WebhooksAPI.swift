import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

/// `/webhook_endpoints` and `/webhook_secret`: where a key's events are pushed, and the
/// secrets that sign them.
struct WebhooksAPI {
    let rules: WebhookURLRules

    /// A rotated secret keeps signing beside its successor this long unless the request says.
    static let defaultGraceSeconds = 24 * 3600
    static let maximumGraceSeconds = 7 * 24 * 3600

    func create(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let json = try request.jsonObject()
        let draft = try Problem.validating { () throws(ValidationError) in try WebhookEndpointDraft(json: json, rules: rules) }
        let secret = WebhookSecret.generate()
        switch try WebhookEndpointStore(connection: connection).create(owner: owner, draft: draft, secret: secret) {
        case .created(let endpoint):
            guard case .object(var body) = endpoint.json else { throw Problem(.internalError, "endpoint JSON is not an object") }
            body["secret"] = .string(secret.text)
            return .json(201, .object(body), headers: [("Location", "/webhook_endpoints/\(endpoint.id)")])
        case .tooMany:
            throw Problem(
                .invalidParameter, "A key may have at most \(WebhookEndpointStore.maximumEndpointsPerKey) webhook endpoints; delete one first.",
                field: "url")
        }
    }

    func list(owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        .json(200, ["webhook_endpoints": .array(try WebhookEndpointStore(connection: connection).list(owner: owner).map(\.json))])
    }

    func find(_ id: String, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        .json(200, try endpoint(id, owner: owner, connection: connection).json)
    }

    func delete(_ id: String, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let uuid = UUID(uuidString: id), try WebhookEndpointStore(connection: connection).delete(id: uuid, owner: owner) else {
            throw Self.notFound(id)
        }
        return HTTPServerResponse(status: 204, headers: [], body: [])
    }

    /// An endpoint its owner has fixed, enabled again (a no-op when it is enabled): new events
    /// go to it from now on; what happened meanwhile is in GET /events.
    func enable(_ id: String, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let uuid = UUID(uuidString: id), try WebhookEndpointStore(connection: connection).enable(id: uuid, owner: owner) else {
            throw Self.notFound(id)
        }
        return .json(200, try endpoint(id, owner: owner, connection: connection).json)
    }

    /// A new secret, shown once; the old one keeps signing for `grace_period` seconds (default
    /// a day, 0 to stop it at once), so receivers can switch without losing a delivery.
    func rotateSecret(_ id: String, _ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let grace = try gracePeriod(request)
        let secret = WebhookSecret.generate()
        guard let uuid = UUID(uuidString: id),
            try WebhookEndpointStore(connection: connection).rotateSecret(endpoint: uuid, owner: owner, secret: secret, graceSeconds: grace)
        else { throw Self.notFound(id) }
        return .json(200, ["secret": .string(secret.text), "previous_secrets_expire_in": .number(Double(grace))])
    }

    /// The key's secret for its messages' `status_callback` deliveries: made by the first
    /// call, rotated by the next ones (shown once each time).
    func rotateKeySecret(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let grace = try gracePeriod(request)
        let secret = WebhookSecret.generate()
        try WebhookEndpointStore(connection: connection).rotateKeySecret(owner: owner, secret: secret, graceSeconds: grace)
        return .json(200, ["secret": .string(secret.text), "previous_secrets_expire_in": .number(Double(grace))])
    }

    func deliveries(_ id: String, _ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let parameters = request.queryParameters
        if let unknown = parameters.keys.sorted().first(where: { $0 != "limit" }) {
            throw Problem(.invalidParameter, "`\(unknown.prefix(40))` is not a parameter of this listing; use limit.", field: unknown)
        }
        let limit = try Problem.validating { () throws(ValidationError) in try MessageListQuery.pageSize(parameters["limit"]) }
        let store = WebhookEndpointStore(connection: connection)
        guard let uuid = UUID(uuidString: id), try store.find(id: uuid, owner: owner) != nil else { throw Self.notFound(id) }
        return .json(200, ["deliveries": .array(try store.attempts(endpoint: uuid, owner: owner, limit: limit).map(\.json))])
    }

    private func endpoint(_ id: String, owner: Int64, connection: PostgresConnection) throws -> WebhookEndpointRecord {
        guard let uuid = UUID(uuidString: id), let endpoint = try WebhookEndpointStore(connection: connection).find(id: uuid, owner: owner) else {
            throw Self.notFound(id)
        }
        return endpoint
    }

    /// `{"grace_period": seconds}`, optional; an empty body is the default.
    private func gracePeriod(_ request: HTTPServerRequest) throws -> Int {
        guard !request.body.isEmpty else { return Self.defaultGraceSeconds }
        let json = try request.jsonObject()
        if let unknown = json.keys.sorted().first(where: { $0 != "grace_period" }) {
            throw Problem(.unknownField, "`\(unknown.prefix(64))` is not a field here; send only `grace_period` (seconds).", field: unknown)
        }
        switch json["grace_period"] {
        case nil, .null?:
            return Self.defaultGraceSeconds
        case .number(let seconds)?:
            guard seconds == seconds.rounded(), seconds >= 0, seconds <= Double(Self.maximumGraceSeconds) else {
                throw Problem(
                    .invalidParameter, "`grace_period` must be whole seconds from 0 to \(Self.maximumGraceSeconds); got \(seconds).", field: "grace_period")
            }
            return Int(seconds)
        case let other?:
            throw Problem(.wrongType, "`grace_period` must be a number of seconds; got a \(other.typeName).", field: "grace_period")
        }
    }

    static func notFound(_ id: String) -> Problem {
        Problem(.notFound, "No webhook endpoint of yours has the id `\(id.prefix(40))`.")
    }
}
