/// Group commit for `POST /messages`. Every accepted message must be durable before its 201,
/// and a commit waits for a WAL flush: one commit per request would cap ingest at the
/// flushes the disk can do, whatever the CPU. So request threads hand their message here and
/// sleep; a few committer threads, each with its own connection, take everything waiting
/// and store it with one statement (`MessageStore.accept`), one transaction, one flush, then
/// wake each request with its own outcome. Nothing waits on purpose: a message that arrives
/// while every committer is busy simply rides in the next batch, so batches grow with the
/// load and a lone request is committed at once.
public final class MessageAcceptor: @unchecked Sendable {
    /// Committer threads, hence connections (`TEXTING_ACCEPT_CONNECTIONS`): with two, one
    /// gathers the next batch while the other waits for its flush.
    public let committers: Int
    /// The most messages in one statement.
    public let maximumBatch: Int

    /// A request waiting for its outcome.
    private final class Ticket {
        let acceptance: MessageStore.Acceptance
        let done: ConditionLock<State>.Condition
        /// Set under the lock by the committer that stored it.
        var result: Result<MessageStore.Outcome, PostgresError>?

        init(_ acceptance: MessageStore.Acceptance, done: ConditionLock<State>.Condition) {
            self.acceptance = acceptance
            self.done = done
        }
    }

    /// The requests no committer has taken yet.
    private struct State {
        var pending: [Ticket] = []
    }
    /// Committers wait for `pending` to fill; each request waits on its own ticket's
    /// condition, so a commit wakes only the requests it answers.
    private let lock = ConditionLock(State())

    /// Starts the committer threads; each connects on its first batch.
    public init(committers: Int, maximumBatch: Int = 200, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        self.committers = max(1, committers)
        self.maximumBatch = max(1, maximumBatch)
        for _ in 0..<self.committers {
            Thread.start { [self] in commitLoop(MessageStore(connection: makeConnection())) }
        }
    }

    /// Stores `acceptance` with whatever else is waiting and returns its outcome once the
    /// transaction that holds it has committed. Throws what the statement threw (the
    /// database down: the caller answers 503, and nothing of this message was stored).
    public func accept(_ acceptance: MessageStore.Acceptance) throws(PostgresError) -> MessageStore.Outcome {
        let ticket = Ticket(acceptance, done: lock.makeCondition())
        lock.withLock { $0.pending.append(ticket) }
        let result = lock.withLock(waitingOn: ticket.done, until: { _ in ticket.result != nil }) { _ in ticket.result! }
        return try result.get()
    }

    private func commitLoop(_ store: MessageStore) {
        while true {
            let batch = lock.withLock(waitingUntil: { !$0.pending.isEmpty }, timeoutMilliseconds: nil) { state in
                let count = min(state.pending.count, maximumBatch)
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            let results = Self.commit(batch.map(\.acceptance), store)
            lock.withLock { _ in
                for (ticket, result) in zip(batch, results) {
                    ticket.result = result
                    ticket.done.signal()
                }
            }
        }
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
