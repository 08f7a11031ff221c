/// An error from PostgreSQL or from libpq. It keeps what a person needs to act on it: the
/// SQLSTATE, the server's message and the name of the query, never the parameters (they
/// hold phone numbers and message bodies).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// Whether the connection itself failed (server down, restarted, unreachable) or a
    /// statement failed on a working connection.
    public enum Kind: Sendable, Equatable {
        case connection
        case statement
        /// A parameter PostgreSQL cannot carry (text with a NUL byte): refused before
        /// anything was sent, instead of being cut short at the NUL.
        case invalidParameter
    }

    public let kind: Kind
    /// The five-character SQLSTATE, e.g. `23505` for a unique violation; nil when libpq
    /// failed before the server answered.
    public let sqlState: String?
    public let message: String
    /// The name of the query that failed, e.g. `messages.insert`.
    public let queryName: String?
    /// The constraint named by the server, for integrity violations.
    public let constraint: String?

    public init(kind: Kind, sqlState: String?, message: String, queryName: String?, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.queryName = queryName
        self.constraint = constraint
    }

    /// True when the database could not be reached or went away: callers answer 503 and
    /// try again later rather than treating it as a bug.
    public var isUnavailable: Bool {
        if kind == .connection { return true }
        guard let state = sqlState else { return false }
        // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    /// True when the transaction lost a race rather than failed: a deadlock (40P01), a
    /// serialization failure (40001), or a lock it waited for past `lock_timeout` (55P03).
    /// It was rolled back whole, so running it again is safe.
    public var isConflict: Bool { sqlState == "40P01" || sqlState == "40001" || sqlState == "55P03" }

    /// True when the database could not do it now, but may in a moment: unavailable, a lost
    /// race, or a statement past `statement_timeout` (57014). Answered 503 with Retry-After.
    public var isTransient: Bool { isUnavailable || isConflict || sqlState == "57014" }

    public var description: String {
        var text = "postgres"
        if let queryName { text += " query \(queryName)" }
        if let sqlState { text += " [\(sqlState)]" }
        text += ": " + message
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }
}
