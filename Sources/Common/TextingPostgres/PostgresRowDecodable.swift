/// A value read from one row of a query's result. Stores decode rows into such values once,
/// at the edge of the store, so that nothing above the store reads a column by name.
public protocol PostgresRowDecodable: Sendable {
    /// Throws when a column is missing, NULL where it may not be, or malformed: a schema
    /// drift is an error to report, not a value to guess.
    init(row: PostgresRow) throws(PostgresError)
}

extension PostgresResult {
    /// Every row as `Row`.
    public func decode<Row: PostgresRowDecodable>(_ type: Row.Type = Row.self) throws(PostgresError) -> [Row] {
        var decoded: [Row] = []
        decoded.reserveCapacity(rows.count)
        for row in rows { decoded.append(try Row(row: row)) }
        return decoded
    }

    /// The first row as `Row`, nil when there is none.
    public func decodeFirst<Row: PostgresRowDecodable>(_ type: Row.Type = Row.self) throws(PostgresError) -> Row? {
        guard let first else { return nil }
        return try Row(row: first)
    }
}
