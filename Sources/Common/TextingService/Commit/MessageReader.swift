import FoundationEssentials
import TextingPostgres
import TextingStore
import TextingSupport

/// Group reads for `GET /messages/{id}` on the mechanism of group commit (`GroupCommit`): the
/// reads of concurrent requests are answered by one `MessageStore.readInSpans` statement on a
/// reader's connection. Alone, a read cost the database about four times what its rows do
/// (the execution's fixed costs, a round trip and a wake-up of one of 32 backends); in a
/// batch those are paid once for all of it. Nothing waits on purpose: a lone read is read
/// at once, and batches grow only with the load.
public final class MessageReader: Sendable {
    /// nil: not in the span its id names (see `read`).
    private let group: GroupCommit<MessageStore.ReadRequest, MessageStore.Reading?>

    /// `readers`: connections that read batches (`TEXTING_READ_CONNECTIONS`: one by default;
    /// under load, a second one halved the batches and doubled PostgreSQL's CPU a read).
    public init(readers: Int, maximumBatch: Int = 100, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        group = GroupCommit(committers: readers, maximumBatch: maximumBatch, makeConnection: makeConnection) { batch, connection in
            Self.read(batch, MessageStore(connection: connection))
        }
    }

    /// What `owner` may read of message `id`, with whatever other reads are waiting. An id
    /// its span does not hold (an unknown one, or a message stored apart from its id's time)
    /// is looked for through the partitioned table on `connection`, the request's own: a
    /// client asking for ids that do not exist keeps its own connection busy, never the
    /// reader everyone's reads wait for.
    public func read(id: UUID, owner: Int64, connection: PostgresConnection) throws(PostgresError) -> MessageStore.Reading {
        if let reading = try group.submit(MessageStore.ReadRequest(id: id, owner: owner)) { return reading }
        return try MessageStore(connection: connection).read(id: id, owner: owner)
    }

    /// One statement for the batch (`GroupCommit.eachAloneIfRefused`: nothing in a read
    /// should make the database refuse it, and if something does, only that read fails).
    private static func read(_ batch: [MessageStore.ReadRequest], _ store: MessageStore) -> [Result<MessageStore.Reading?, PostgresError>] {
        GroupCommit.eachAloneIfRefused(batch, "read") { (requests) throws(PostgresError) in try store.readInSpans(requests) }
    }
}
