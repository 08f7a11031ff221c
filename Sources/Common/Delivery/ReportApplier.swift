/// Group commit for delivery reports (`GroupCommit`): with a report for nearly every message
/// sent, one commit per report held a busy machine's accepts back as much as the accepts
/// themselves. `delivered` and `failed` reports of concurrent requests are applied with one
/// `DeliveryStore.applyTogether` statement; reports for one message never share a batch, so
/// they are applied one after the other as they would be alone. `invalid`, rare and heavier
/// (it deactivates the number and fails its queued messages), keeps its own transaction on
/// the request's connection.
public final class ReportApplier: Sendable {
    private let group: GroupCommit<DeliveryStore.Report, DeliveryStore.Outcome>

    /// `committers`: connections that apply batches (`TEXTING_COMMIT_CONNECTIONS`).
    public init(committers: Int, maximumBatch: Int = 200, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        group = GroupCommit(committers: committers, maximumBatch: maximumBatch, key: { $0.messageID.lowercased() },
                            makeConnection: makeConnection) { batch, connection in
            Self.commit(batch, DeliveryStore(connection: connection))
        }
    }

    /// Applies `report` and returns once it is committed; `connection` is the request's own,
    /// for an `invalid` report.
    public func apply(_ report: DeliveryStore.Report, connection: PostgresConnection) throws -> DeliveryStore.Outcome {
        guard report.report != .invalid else { return try DeliveryStore(connection: connection).apply(report) }
        return try group.submit(report)
    }

    /// One statement for the batch; then, each alone, the reports it left (a message another
    /// transaction held, or an unknown one). Should the database refuse the batch, each
    /// report is applied alone, so only a bad one fails.
    private static func commit(_ batch: [DeliveryStore.Report], _ store: DeliveryStore) -> [Result<DeliveryStore.Outcome, PostgresError>] {
        let together: [DeliveryStore.Outcome?]
        do {
            together = try store.applyTogether(batch)
        } catch {
            if error.isUnavailable { return Array(repeating: .failure(error), count: batch.count) }
            Log.warning("delivery: a batch of \(batch.count) reports failed (\(error)); applying each alone")
            together = Array(repeating: nil, count: batch.count)
        }
        return zip(batch, together).map { report, outcome in
            if let outcome { return .success(outcome) }
            return Result { () throws(PostgresError) -> DeliveryStore.Outcome in try applyAlone(report, store) }
        }
    }

    private static func applyAlone(_ report: DeliveryStore.Report, _ store: DeliveryStore) throws(PostgresError) -> DeliveryStore.Outcome {
        do {
            return try store.apply(report)
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(kind: .statement, sqlState: nil, message: "\(error)", queryName: DeliveryStore.apply.name)
        }
    }
}
