/// A named SQL statement with `$1 … $n` placeholders. SQL is never built from strings: values
/// always travel as parameters. The name is what logs and errors show.
public struct Query: Sendable {
    public let name: String
    public let sql: String
    /// How the statement is planned.
    public let planning: Planning

    public enum Planning: Sendable {
        /// Prepared once per connection (when the connection prepares statements): PostgreSQL
        /// may then keep one generic plan for every later execution.
        case prepared
        /// Planned at every execution, for the values at hand and the tables as they are now.
        /// For batch statements that look rows up by an array of keys in a table that grows:
        /// a generic plan made while the table was empty or never analysed (a fresh install,
        /// after a TRUNCATE) scans the whole table, and keeps doing so as the table grows
        /// until autovacuum's next ANALYZE. Planning costs a fraction of a millisecond per
        /// batch, not per row.
        case eachExecution
    }

    public init(_ name: String, _ sql: String, planning: Planning = .prepared) {
        self.name = name
        self.sql = sql
        self.planning = planning
    }
}
