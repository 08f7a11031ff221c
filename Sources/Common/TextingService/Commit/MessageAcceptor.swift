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

    /// One statement for the batch (`GroupCommit.eachAloneIfRefused`: a refused batch is
    /// stored a message at a time, so only a bad one fails).
    private static func commit(_ batch: [MessageStore.Acceptance], _ store: MessageStore) -> [Result<MessageStore.Outcome, PostgresError>] {
        GroupCommit.eachAloneIfRefused(batch, "accept") { (acceptances) throws(PostgresError) in try store.accept(acceptances) }
    }
}
