import TextingPostgres
import TextingStore
import TextingSupport

/// Group commit for delivery reports (`GroupCommit`): with a report for nearly every message
/// sent, one commit per report held a busy machine's accepts back as much as the accepts
/// themselves. `delivered` and `failed` reports of concurrent requests are applied with one
/// `DeliveryStore.applyTogether` statement; reports for one message never share a batch, so
/// they are applied one after the other as they would be alone. `invalid`, rare and heavier
/// (it deactivates the number and fails its queued messages), keeps its own transaction on
/// the request's connection.
public final class ReportApplier: Sendable {
    /// nil: the batch did not apply that report (see `apply`).
    private let group: GroupCommit<DeliveryStore.Report, DeliveryStore.Outcome?>

    /// `committers`: connections that apply batches (`TEXTING_REPORT_COMMIT_CONNECTIONS`: one by default, for larger batches).
    public init(committers: Int, maximumBatch: Int = 200, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        group = GroupCommit(
            committers: committers, maximumBatch: maximumBatch, key: { $0.messageID.lowercased() },
            makeConnection: makeConnection
        ) { batch, connection in
            Self.commit(batch, DeliveryStore(connection: connection))
        }
    }

    /// Applies `report` and returns once it is committed. `connection` is the request's own:
    /// an `invalid` report gets its transaction there, and so does a report the batch left (a
    /// message another transaction holds, or an unknown one), which waits there for the
    /// message's lock. Waiting on a committer instead would hold up every other report of
    /// its batch, and soon every committer.
    public func apply(_ report: DeliveryStore.Report, connection: PostgresConnection) throws -> DeliveryStore.Outcome {
        if report.report != .invalid, let outcome = try group.submit(report) { return outcome }
        return try DeliveryStore(connection: connection).apply(report)
    }

    /// One statement for the batch. Should the database refuse it, every report is left to
    /// its request, so only a bad one fails.
    private static func commit(_ batch: [DeliveryStore.Report], _ store: DeliveryStore) -> [Result<DeliveryStore.Outcome?, PostgresError>] {
        do {
            return try store.applyTogether(batch).map { .success($0) }
        } catch {
            if error.isUnavailable { return Array(repeating: .failure(error), count: batch.count) }
            Log.warning("delivery: a batch of \(batch.count) reports failed (\(error)); applying each alone")
            return Array(repeating: .success(nil), count: batch.count)
        }
    }
}
