import TextingPostgres
import TextingStore
import TextingSupport

/// Group commit for `POST /messages` (`GroupCommit`): the messages of concurrent requests
/// are stored with one `MessageStore.accept` statement, one transaction and one WAL flush.
public final class MessageAcceptor: Sendable {
    private let group: GroupCommit<MessageStore.Acceptance, MessageStore.Outcome>

    /// `committers`: connections that store batches (`TEXTING_COMMIT_CONNECTIONS`).
    public init(committers: Int, maximumBatch: Int = 200, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        group = GroupCommit(committers: committers, maximumBatch: maximumBatch, makeConnection: makeConnection) { batch, connection in
            Self.commit(batch, MessageStore(connection: connection))
        }
    }

    /// Stores the message with whatever else is waiting; returns once it is committed.
    public func accept(_ acceptance: MessageStore.Acceptance) throws(PostgresError) -> MessageStore.Outcome {
        try group.submit(acceptance)
    }

    /// Stores the messages of one request together (`POST /messages/batch`): one statement,
    /// one transaction, with whatever else is waiting; their outcomes in order.
    public func accept(_ acceptances: [MessageStore.Acceptance]) -> [Result<MessageStore.Outcome, PostgresError>] {
        group.submit(acceptances)
    }

    /// One statement for the batch. Should the database refuse it (something in one message
    /// the checks before did not catch), each message is tried alone, so only that one fails.
    private static func commit(_ batch: [MessageStore.Acceptance], _ store: MessageStore) -> [Result<MessageStore.Outcome, PostgresError>] {
        do {
            return try store.accept(batch).map { .success($0) }
        } catch {
            guard batch.count > 1, !error.isUnavailable else {
                return Array(repeating: .failure(error), count: batch.count)
            }
            Log.warning("accept: a batch of \(batch.count) failed (\(error)); storing each message alone")
            return batch.map { acceptance in
                Result { () throws(PostgresError) -> MessageStore.Outcome in try store.accept([acceptance])[0] }
            }
        }
    }
}
