/// A named SQL statement with `$1 … $n` placeholders. SQL is never built from strings: values
/// always travel as parameters. The name is what logs and errors show.
public struct Query: Sendable {
    public let name: String
    public let sql: String

    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}
