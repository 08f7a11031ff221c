import TextingPostgres

/// The console's Numbers page: the numbers a provider reported invalid (inactive), newest
/// first, from 0028's partial index. Opted-out numbers are `OptOutStore.list`'s.
public struct NumberLists {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// An inactive number and since when.
    public struct Inactive: Sendable, Equatable {
        public let number: String
        public let since: String
    }

    public func inactive(limit: Int) throws(PostgresError) -> [Inactive] {
        try connection.execute(Self.inactive, [String(limit)]).rows.map { Inactive(number: $0["number"] ?? "", since: $0["since"] ?? "-") }
    }

    static let inactive = Query(
        "console.inactive_numbers",
        """
        SELECT number, to_char(inactivated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
        FROM phone_numbers WHERE status = 'inactive' ORDER BY inactivated_at DESC NULLS LAST LIMIT $1::int
        """)
}
