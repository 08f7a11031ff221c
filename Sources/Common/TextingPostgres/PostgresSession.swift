import TextingSupport

/// Limits every connection of the service sets when it connects, so that nothing a peer or a
/// stall does can hold a connection, a lock or a transaction open forever: a statement that
/// runs too long, a lock that cannot be had, a transaction left open by a paused process, a
/// database host that stopped answering.
public struct PostgresSession: Sendable, Equatable {
    /// `statement_timeout`; 0 turns it off.
    public var statementTimeoutMilliseconds = 30_000
    /// `lock_timeout`: a statement waiting this long for a row or table lock fails (and its
    /// transaction is retried or its request answered 503) instead of queueing up behind it.
    public var lockTimeoutMilliseconds = 10_000
    /// `idle_in_transaction_session_timeout`: the server ends a session that sat this long
    /// inside a transaction, releasing its locks.
    public var idleInTransactionTimeoutMilliseconds = 60_000
    /// libpq's `connect_timeout` (seconds; libpq takes at least 2).
    public var connectTimeoutSeconds = 5
    /// TCP keepalives: the first probe after this many idle seconds, then every `/3` of
    /// it, 3 unanswered probes ending the connection. A host that vanished (a cut network, a
    /// failover) is noticed instead of waited for.
    public var keepalivesIdleSeconds = 30

    public init() {}

    /// libpq connection keywords and values, given after the connection string so that they
    /// win over the same keywords in it. The server settings travel in `options`, which
    /// therefore replaces an `options` given in the connection string.
    var connectionParameters: [(String, String)] {
        [
            // Which program a server session belongs to, in pg_stat_activity and the server's
            // log, unless the connection string or PGAPPNAME names it.
            ("fallback_application_name", String(Log.programName.prefix(63))),
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"),
            ("keepalives_idle", String(keepalivesIdleSeconds)),
            ("keepalives_interval", String(max(1, keepalivesIdleSeconds / 3))),
            ("keepalives_count", "3"),
            (
                "options",
                "-c statement_timeout=\(statementTimeoutMilliseconds) -c lock_timeout=\(lockTimeoutMilliseconds)"
                    + " -c idle_in_transaction_session_timeout=\(idleInTransactionTimeoutMilliseconds)"
            ),
        ]
    }
}
