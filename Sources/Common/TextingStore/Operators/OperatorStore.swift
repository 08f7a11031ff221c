import TextingDomain
import TextingPostgres

/// The SQL for operators, in one place: made, listed and revoked by `textingctl operators`,
/// checked when someone signs in to the console.
public struct OperatorStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// An operator as the console and `textingctl operators list` show one.
    public struct Operator: Sendable, Equatable, PostgresRowDecodable {
        public let id: Int64
        public let publicID: String
        public let name: String
        public let prefix: String
        public let createdAt: String
        public let revokedAt: String?

        public init(row: PostgresRow) throws(PostgresError) {
            id = Int64(try row.int("id"))
            publicID = try row.string("public_id")
            name = try row.string("name")
            prefix = try row.string("prefix")
            createdAt = try row.string("created_at")
            revokedAt = row["revoked_at"]
        }
    }

    /// Makes an operator named `name`; returns it and its token, which is never stored.
    public func create(name: String) throws -> (operator: Operator, token: String) {
        let token = OperatorToken.generate()
        guard
            let made: Operator = try connection.execute(Self.insert, [name, OperatorToken.prefix(of: token), OperatorToken.hash(token)]).decodeFirst()
        else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "insert returned no row", queryName: Self.insert.name)
        }
        return (made, token)
    }

    public func list() throws(PostgresError) -> [Operator] {
        try connection.execute(Self.listAll).decode()
    }

    /// Revokes the operator with public id `publicID` and ends their sessions; false if there
    /// is no such active operator.
    public func revoke(publicID: String) throws(PostgresError) -> Bool {
        try connection.execute(Self.revoke, [publicID]).affectedRows == 1
    }

    /// The active operator whose token is `token`; nil for anything else (an API key, a
    /// revoked or unknown token).
    public func authenticate(token: String) throws(PostgresError) -> Operator? {
        guard OperatorToken.isWellFormed(token) else { return nil }
        return try connection.execute(Self.findActive, [OperatorToken.hash(token)]).decodeFirst()
    }

    static let columns = """
        id, public_id::text AS public_id, name, prefix,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
        to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
        """
    static let insert = Query("operators.insert", "INSERT INTO operators (name, prefix, token_hash) VALUES ($1, $2, $3) RETURNING \(columns)")
    static let listAll = Query("operators.list", "SELECT \(columns) FROM operators ORDER BY id")
    /// Revoking ends the operator's sessions in the same statement: a revoked token's browser
    /// is signed out at its next request.
    static let revoke = Query(
        "operators.revoke",
        """
        WITH revoked AS (
            UPDATE operators SET revoked_at = now() WHERE public_id::text = $1 AND revoked_at IS NULL RETURNING id
        ), ended AS (
            DELETE FROM operator_sessions WHERE operator_id IN (SELECT id FROM revoked)
        )
        SELECT id FROM revoked
        """)
    static let findActive = Query("operators.find_active", "SELECT \(columns) FROM operators WHERE token_hash = $1 AND revoked_at IS NULL")
}
