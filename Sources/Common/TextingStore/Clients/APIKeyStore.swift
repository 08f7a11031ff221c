import TextingDomain
import TextingPostgres

/// The SQL for API keys, in one place: made, listed and revoked by `textingctl`, checked on
/// every client request.
public struct APIKeyStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Creates a key named `name`; returns the record and the secret, which is never stored.
    public func create(name: String) throws -> (key: APIKey, secret: String) {
        let secret = APIKey.generateSecret()
        let prefix = String(secret.prefix(APIKey.scheme.count + 6))
        guard let key: APIKey = try connection.execute(Self.insert, [name, prefix, APIKey.hash(secret)]).decodeFirst() else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "insert returned no row", queryName: Self.insert.name)
        }
        return (key, secret)
    }

    public func list() throws(PostgresError) -> [APIKey] {
        try connection.execute(Self.listAll).decode()
    }

    /// Revokes the key with public id `publicID`; false if there is no such key.
    public func revoke(publicID: String) throws(PostgresError) -> Bool {
        try connection.execute(Self.revoke, [publicID]).affectedRows == 1
    }

    /// The owner id of an active key, nil for an unknown or revoked one.
    public func authenticate(secret: String) throws(PostgresError) -> Int64? {
        try authenticate(hash: APIKey.hash(secret))
    }

    /// The owner id of the active key whose hash (`APIKey.hash`) is `hash`.
    public func authenticate(hash: String) throws(PostgresError) -> Int64? {
        try connection.execute(Self.findActive, [hash]).first.flatMap { $0.optionalInt("id") }.map(Int64.init)
    }

    private static let columns = """
        id, public_id::text AS public_id, name, prefix,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
        to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
        """
    /// The internal id of the active key with public id `publicID`.
    public func activeKey(publicID: String) throws(PostgresError) -> Int64? {
        try connection.execute(Self.findByPublicID, [publicID]).first?["id"].flatMap { Int64($0) }
    }

    static let findByPublicID = Query("api_keys.find_by_public_id", "SELECT id FROM api_keys WHERE public_id::text = $1 AND revoked_at IS NULL")
    static let insert = Query("api_keys.insert", "INSERT INTO api_keys (name, prefix, key_hash) VALUES ($1, $2, $3) RETURNING \(columns)")
    static let listAll = Query("api_keys.list", "SELECT \(columns) FROM api_keys ORDER BY id")
    static let revoke = Query("api_keys.revoke", "UPDATE api_keys SET revoked_at = now() WHERE public_id::text = $1 AND revoked_at IS NULL")
    static let findActive = Query("api_keys.find_active", "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
}

extension APIKey: PostgresRowDecodable {
    /// A row with `APIKeyStore`'s key columns.
    public init(row: PostgresRow) throws(PostgresError) {
        self.init(
            id: Int64(try row.int("id")), publicID: try row.string("public_id"), name: try row.string("name"),
            prefix: try row.string("prefix"), createdAt: try row.string("created_at"), revokedAt: row["revoked_at"])
    }
}
