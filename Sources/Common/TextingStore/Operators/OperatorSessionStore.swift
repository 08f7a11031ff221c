import TextingDomain
import TextingPostgres
import TextingSupport

/// The console's sessions: a signed-in browser holds a random session token in its cookie;
/// the table keeps its hash, the operator, the session's CSRF token and when it ends.
public struct OperatorSessionStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// How long a session lasts from sign-in: a working shift. The cookie's `Max-Age` says the same.
    public static let lifetimeSeconds = 8 * 3600

    /// A live session: whose it is and the CSRF token its forms carry.
    public struct Session: Sendable, Equatable {
        public let operatorName: String
        public let csrfToken: String
    }

    /// Opens a session for `operatorID`; returns the token for the cookie (never stored) and
    /// the session's CSRF token. Sessions that have ended are deleted on the way.
    public func open(operatorID: Int64, remoteAddress: String?) throws -> (token: String, csrfToken: String) {
        let token = Base64URL.encode(RandomBytes.make(32))
        let csrf = Base64URL.encode(RandomBytes.make(32))
        try connection.execute(Self.deleteExpired)
        try connection.execute(
            Self.insert, [String(operatorID), Digest.sha256Hex(Array(token.utf8)), csrf, remoteAddress, String(Self.lifetimeSeconds)])
        return (token, csrf)
    }

    /// The live session whose cookie token is `token`: not expired, its operator not revoked.
    public func find(token: String) throws(PostgresError) -> Session? {
        guard (1...100).contains(token.utf8.count) else { return nil }
        guard let row = try connection.execute(Self.find, [Digest.sha256Hex(Array(token.utf8))]).first else { return nil }
        return Session(operatorName: try row.string("name"), csrfToken: try row.string("csrf_token"))
    }

    /// Ends the session whose cookie token is `token` (signing out).
    public func close(token: String) throws(PostgresError) {
        try connection.execute(Self.delete, [Digest.sha256Hex(Array(token.utf8))])
    }

    static let insert = Query(
        "operator_sessions.insert",
        """
        INSERT INTO operator_sessions (operator_id, session_hash, csrf_token, remote_address, expires_at)
        VALUES ($1::bigint, $2, $3, $4, now() + make_interval(secs => $5::int))
        """)
    static let find = Query(
        "operator_sessions.find",
        """
        SELECT o.name, s.csrf_token FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
        WHERE s.session_hash = $1 AND s.expires_at > now() AND o.revoked_at IS NULL
        """)
    static let delete = Query("operator_sessions.delete", "DELETE FROM operator_sessions WHERE session_hash = $1")
    static let deleteExpired = Query("operator_sessions.delete_expired", "DELETE FROM operator_sessions WHERE expires_at <= now()")
}
