import FoundationEssentials
import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingStore
import TextingSupport

/// `GET /events` and `GET /events/{id}`: the same events the webhooks push, to pull, so a
/// client that cannot receive webhooks, or lost some, reconciles from one log.
struct EventsAPI {
    /// A page oldest first. `next_after` is always the position to continue from (the last
    /// event listed, or the `after` given when nothing new is there yet), so a client polls
    /// with it until `has_more` is false and again later.
    func list(_ request: HTTPServerRequest, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        let query = try Problem.validating { () throws(ValidationError) in try EventListQuery(parameters: request.queryParameters) }
        let page = try EventStore(connection: connection).list(owner: owner, after: query.after, types: query.types, limit: query.limit)
        let position = page.events.last?.position ?? query.after
        return .json(
            200,
            [
                "events": .array(page.events.map(\.json)),
                "next_after": position.map { .string($0.cursor) } ?? .null,
                "has_more": .bool(page.more),
            ])
    }

    func find(_ id: String, owner: Int64, connection: PostgresConnection) throws -> HTTPServerResponse {
        guard let uuid = UUID(uuidString: id), let event = try EventStore(connection: connection).find(id: uuid.uuidString.lowercased(), owner: owner) else {
            throw Problem(.notFound, "No event of yours has the id `\(id.prefix(40))`.")
        }
        return .json(200, event.json)
    }
}
