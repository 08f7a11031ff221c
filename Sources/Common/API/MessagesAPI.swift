import FoundationEssentials

/// The client API behind `/messages` (MessagesFCGI): routing, input checks and answers.
public struct MessagesAPI: Sendable {
    public let defaultCountryCode: String

    public init(defaultCountryCode: String) {
        self.defaultCountryCode = defaultCountryCode
    }

    /// Answers one request on the calling worker's own connection.
    public func handle(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true)
        switch (segments.first, segments.count) {
        case ("healthz"?, 1):
            guard request.method == "GET" || request.method == "HEAD" else { throw Problem.methodNotAllowed(request.method, allowed: ["GET"]) }
            try connection.execute(Self.health)
            return .json(200, ["status": "ok"])
        case ("messages"?, 1):
            guard request.method == "POST" else { throw Problem.methodNotAllowed(request.method, allowed: ["POST"]) }
            return try create(request, connection: connection)
        case ("messages"?, 2):
            guard request.method == "GET" || request.method == "HEAD" else { throw Problem.methodNotAllowed(request.method, allowed: ["GET"]) }
            return try show(id: String(segments[1]), connection: connection)
        default:
            throw Problem(.notFound, "There is nothing at \(request.path.prefix(100)); the API serves /messages and /messages/{id}.")
        }
    }

    private func create(_ request: HTTPServerRequest, connection: PostgresConnection) throws -> HTTPServerResponse {
        let message = try NewMessage(json: try request.jsonObject(), defaultCountryCode: defaultCountryCode)
        switch try MessageStore(connection: connection).accept(message) {
        case .accepted(let record):
            return .json(201, record.json, headers: [("Location", "/messages/\(record.id)")])
        case .phoneNumberInactive:
            throw Problem(.phoneNumberInactive, "\(message.to.e164) is inactive: a provider reported it invalid, so nothing more is sent to it.", field: "to_number")
        }
    }

    private func show(id: String, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let uuid = UUID(uuidString: id), let record = try MessageStore(connection: connection).find(id: uuid) else {
            throw Problem(.notFound, "No message has the id `\(id.prefix(40))`.")
        }
        return .json(200, record.json)
    }

    static let health = Query("health.check", "SELECT 1")
}
