import TextingPostgres

/// Whether the database answers, for `GET /healthz`.
public struct DatabaseHealth {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Throws when a trivial statement cannot run on the connection.
    public func check() throws(PostgresError) {
        try connection.execute(Self.check)
    }

    static let check = Query("health.check", "SELECT 1")
}
