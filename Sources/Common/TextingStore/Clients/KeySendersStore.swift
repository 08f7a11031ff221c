import TextingDomain
import TextingPostgres

/// One sender an API key may send with (`textingctl keys senders`).
public struct KeySender: Sendable, Equatable, PostgresRowDecodable {
    public let sender: String
    /// In the key's pool: shared among its recipients, each keeping one.
    public let pooled: Bool
    /// Used when a message gives no `from`.
    public let isDefault: Bool
    public let addedAt: String

    public init(row: PostgresRow) throws(PostgresError) {
        sender = try row.string("sender")
        pooled = try row.bool("pooled")
        isDefault = try row.bool("is_default")
        addedAt = try row.string("added_at")
    }
}

/// The SQL for the senders each API key may use, in one place. `MessageStore.accept` reads
/// them in the statement that stores (migration 0020 says how a sender is chosen).
public struct KeySendersStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func list(owner: Int64) throws(PostgresError) -> [KeySender] {
        try connection.execute(Self.list, [String(owner)]).decode()
    }

    /// Allows `sender` to the key, or changes how it is used; a new default replaces the old.
    public func add(owner: Int64, sender: SenderID, pooled: Bool, isDefault: Bool) throws {
        try connection.transaction { connection in
            if isDefault { try connection.execute(Self.clearDefault, [String(owner)]) }
            try connection.execute(Self.upsert, [String(owner), sender.text, pooled ? "t" : "f", isDefault ? "t" : "f"])
        }
    }

    /// False if the key had no such sender. Messages already accepted keep theirs.
    public func remove(owner: Int64, sender: String) throws(PostgresError) -> Bool {
        try connection.execute(Self.remove, [String(owner), sender]).affectedRows == 1
    }

    static let list = Query(
        "key_senders.list",
        """
        SELECT sender, pooled, is_default, to_char(added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS added_at
        FROM api_key_senders WHERE api_key_id = $1::bigint ORDER BY sender
        """)
    static let clearDefault = Query(
        "key_senders.clear_default", "UPDATE api_key_senders SET is_default = false WHERE api_key_id = $1::bigint AND is_default")
    static let upsert = Query(
        "key_senders.add",
        """
        INSERT INTO api_key_senders (api_key_id, sender, pooled, is_default) VALUES ($1::bigint, $2, $3::boolean, $4::boolean)
        ON CONFLICT (api_key_id, sender) DO UPDATE SET pooled = EXCLUDED.pooled, is_default = EXCLUDED.is_default
        """)
    static let remove = Query("key_senders.remove", "DELETE FROM api_key_senders WHERE api_key_id = $1::bigint AND sender = $2")
}
