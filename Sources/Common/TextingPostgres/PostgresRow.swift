/// One row of a result, copied out of libpq in text format. Typed accessors throw on a
/// NULL or malformed value rather than trapping: a schema drift is an error to report.
public struct PostgresRow: Sendable {
    public let columns: [String]
    public let values: [String?]

    /// A row of these columns and values (NULL as nil), as libpq gives them or a test makes them.
    public init(columns: [String], values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The raw text of a column, nil for SQL NULL.
    public subscript(_ column: String) -> String? {
        // Lengths first: most names differ in length, which costs nothing to compare (a
        // record reads 25 columns of a row this way; full comparisons were 2 % of a batch).
        let length = column.utf8.count
        guard let index = columns.firstIndex(where: { $0.utf8.count == length && $0 == column }) else { return nil }
        return values[index]
    }

    public func string(_ column: String) throws(PostgresError) -> String {
        guard let value = self[column] else { throw missing(column) }
        return value
    }

    public func int(_ column: String) throws(PostgresError) -> Int {
        guard let text = self[column], let value = Int(text) else { throw missing(column) }
        return value
    }

    public func optionalInt(_ column: String) -> Int? { self[column].flatMap { Int($0) } }

    public func bool(_ column: String) throws(PostgresError) -> Bool {
        switch self[column] {
        case "t": return true
        case "f": return false
        default: throw missing(column)
        }
    }

    private func missing(_ column: String) -> PostgresError {
        PostgresError(kind: .statement, sqlState: nil, message: "column \(column) is missing, NULL or not of the expected type", queryName: nil)
    }
}
