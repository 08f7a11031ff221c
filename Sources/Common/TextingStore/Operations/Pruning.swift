import TextingPostgres

/// `textingctl prune`: deletes what no longer counts. Jobs need no pruning: a job's row is
/// deleted as soon as its message is sent, fails or is canceled, and a job whose sender died
/// is not orphaned (its lease runs out and another sender claims it).
public struct Pruning {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What one prune deleted.
    public struct Result: Equatable, Sendable {
        /// `Idempotency-Key` records older than 24 hours (they no longer count).
        public let idempotencyKeys: Int
        /// `idle_senders` rows older than a minute: senders that died while idle (ignored
        /// by the notify trigger already).
        public let idleSenders: Int
        /// Status count changes folded into the counts (`StatusCounts.compact`).
        public let statusChanges: Int

        public init(idempotencyKeys: Int, idleSenders: Int, statusChanges: Int = 0) {
            self.idempotencyKeys = idempotencyKeys
            self.idleSenders = idleSenders
            self.statusChanges = statusChanges
        }

        /// The line `textingctl prune` prints.
        public var summary: String {
            "pruned \(idempotencyKeys) Idempotency-Key record\(idempotencyKeys == 1 ? "" : "s") older than 24 hours and \(idleSenders) stale idle-sender record\(idleSenders == 1 ? "" : "s"); folded \(statusChanges) status count change\(statusChanges == 1 ? "" : "s"); jobs need no pruning (a job is deleted when its message leaves the queue)"
        }
    }

    public func prune() throws(PostgresError) -> Result {
        Result(
            idempotencyKeys: try IdempotencyStore(connection: connection).deleteExpired(),
            idleSenders: try connection.execute(Self.staleIdleSenders).affectedRows,
            statusChanges: try StatusCounts(connection: connection).compact())
    }

    /// The same minute the notify trigger uses (migrations/0004): rows it already ignores.
    static let staleIdleSenders = Query("prune.idle_senders", "DELETE FROM idle_senders WHERE since < now() - interval '1 minute'")
}
