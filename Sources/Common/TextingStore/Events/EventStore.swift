import TextingDomain
import TextingPostgres

/// Reading the event log (the trigger of migration 0007 writes it, in the transaction of each
/// change). Every query is scoped to the API key that owns the events.
public struct EventStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// A page of `owner`'s events after `after`, oldest first, of the given types (all when
    /// empty). One more row than asked for tells whether a next page exists.
    public func list(owner: Int64, after: EventListQuery.Position?, types: Set<EventType>, limit: Int) throws(PostgresError) -> (
        events: [EventRecord], more: Bool
    ) {
        let events: [EventRecord] = try connection.execute(
            Self.list,
            [
                String(owner), after.map { String($0.xact) }, after.map { String($0.id) },
                types.isEmpty ? nil : PostgresArray.literal(types.sorted().map(\.rawValue)), String(limit + 1),
            ]
        ).decode()
        return (Array(events.prefix(limit)), events.count > limit)
    }

    /// `owner`'s event with public id `id`.
    public func find(id: String, owner: Int64) throws(PostgresError) -> EventRecord? {
        try connection.execute(Self.find, [id, String(owner)]).decodeFirst()
    }

    /// Keyset on (writing transaction, id), and only events of transactions older than every
    /// transaction still running (`pg_snapshot_xmin`): ids are handed out before commit, so
    /// listing by id alone could show event 8 while event 7 is still uncommitted, and a client
    /// whose cursor moved past 8 would never see 7. A transaction older than the snapshot's
    /// xmin has ended, so nothing can appear before the cursor later.
    static let list = Query(
        "events.list",
        """
        SELECT \(EventRecord.columns)
        FROM events e
        \(EventRecord.eventJoins)
        WHERE e.api_key_id = $1::bigint
          AND e.xact < pg_snapshot_xmin(pg_current_snapshot())
          AND ($2::xid8 IS NULL OR (e.xact, e.id) > ($2::xid8, $3::bigint))
          AND ($4::text[] IS NULL OR e.type = ANY($4::text[]))
        ORDER BY e.xact, e.id
        LIMIT $5::integer
        """)

    static let find = Query(
        "events.find",
        """
        SELECT \(EventRecord.columns)
        FROM events e
        \(EventRecord.eventJoins)
        WHERE \(HistorySpans.publicID("e", is: "$1")) AND e.api_key_id = $2::bigint
        """)
}
