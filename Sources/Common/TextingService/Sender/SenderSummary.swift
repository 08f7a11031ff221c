/// What one sender run did: its one log line.
public struct SenderSummary: Sendable, Equatable, CustomStringConvertible {
    public var claimed = 0
    public var sent = 0
    public var retried = 0
    public var failed = 0
    public var dropped = 0
    /// Claimed, then put back unsent: only a paused or rate-exhausted provider took them.
    public var deferred = 0
    public var expiredIdempotencyKeys = 0
    /// Status count changes folded into the counts at the end of the run.
    public var foldedStatusChanges = 0
    /// History partitions made ahead and dropped past retention at the end of the run.
    public var partitionsMade = 0
    public var partitionsDropped = 0
    /// Sends per provider name, accepted or not.
    public var attemptsByProvider: [String: Int] = [:]

    public init() {}

    /// Outcomes that changed nothing: the lease was gone (another sender took the job).
    public var stale = 0
    /// Outcomes the database refused even alone; their jobs are sent again after their leases.
    public var unrecordable = 0
    /// Claims that took nothing because the providers' contracted rates were used up.
    public var waitsForRate = 0

    mutating func count(_ recorded: OutcomeRecorder.RecordedOutcome) {
        switch recorded.result {
        case .stale: stale += 1
        case .unrecordable: unrecordable += 1
        case .recorded:
            switch recorded.outcome.disposition {
            case .sent: sent += 1
            case .retry: retried += 1
            case .failed: failed += 1
            case .dropped: dropped += 1
            case .deferred: deferred += 1
            }
        }
    }

    public var description: String {
        let providers = attemptsByProvider.keys.sorted().map { "\($0)=\(attemptsByProvider[$0]!)" }.joined(separator: " ")
        return
            "claimed=\(claimed) sent=\(sent) retried=\(retried) failed=\(failed) dropped=\(dropped) deferred=\(deferred) stale=\(stale) unrecordable=\(unrecordable) attempts[\(providers)] waits_for_rate=\(waitsForRate) expired_idempotency_keys=\(expiredIdempotencyKeys) folded_status_changes=\(foldedStatusChanges) partitions_made=\(partitionsMade) partitions_dropped=\(partitionsDropped)"
    }
}
