import TextingSupport

/// The query string of `GET /events`, checked: `after` (the opaque cursor a previous page
/// returned as `next_after`), `type` (a comma-separated list of event types) and `limit`
/// (1–100, default 20). Events come oldest first: the list is a log to read forward.
public struct EventListQuery: Sendable, Equatable {
    /// Where a page starts: after the event written by transaction `xact` with internal id `id`.
    public struct Position: Sendable, Equatable {
        public let xact: UInt64
        public let id: Int64

        public init(xact: UInt64, id: Int64) {
            self.xact = xact
            self.id = id
        }

        /// The opaque cursor a client passes back as `after`.
        public var cursor: String { Base64URL.encode(Array("e1:\(xact):\(id)".utf8)) }

        /// The position a cursor names; nil for anything a page did not hand out.
        public init?(cursor text: String) {
            guard text.utf8.count <= 96, let bytes = Base64URL.decode(text), let plain = String(validating: bytes, as: UTF8.self),
                plain.hasPrefix("e1:")
            else { return nil }
            let parts = plain.dropFirst(3).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let xact = UInt64(parts[0]), let id = Int64(parts[1]), id > 0 else { return nil }
            self.init(xact: xact, id: id)
        }
    }

    public let after: Position?
    /// Empty: every type.
    public let types: Set<EventType>
    public let limit: Int

    public static let parameters: Set<String> = ["after", "type", "limit"]

    public init(parameters: [String: String]) throws(ValidationError) {
        if let unknown = parameters.keys.sorted().first(where: { !Self.parameters.contains($0) }) {
            throw ValidationError(
                .invalidParameter, "`\(unknown.prefix(40))` is not a parameter of this listing; use after, type and limit.", field: unknown)
        }
        if let raw = parameters["after"] {
            guard let position = Position(cursor: raw) else {
                throw ValidationError(.invalidParameter, "`after` must be a `next_after` value from a previous page of /events, unchanged.", field: "after")
            }
            after = position
        } else {
            after = nil
        }
        types = try parameters["type"].map { raw throws(ValidationError) in try EventType.parseList(raw, field: "type") } ?? []
        limit = try MessageListQuery.pageSize(parameters["limit"])
    }
}
