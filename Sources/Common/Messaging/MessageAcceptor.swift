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
        let done: ConditionLock.Condition
        var result: Result<MessageStore.Outcome, PostgresError>?

        init(_ acceptance: MessageStore.Acceptance, done: ConditionLock.Condition) {
            self.acceptance = acceptance
            self.done = done
        }
    }

    // Everything below is guarded by `lock`.
    private let lock = ConditionLock()
    private let workAvailable: ConditionLock.Condition
    private var pending: [Ticket] = []

    /// Starts the committer threads; each connects on its first batch.
    public init(committers: Int, maximumBatch: Int = 200, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        self.committers = max(1, committers)
        self.maximumBatch = max(1, maximumBatch)
        workAvailable = lock.makeCondition()
        for _ in 0..<self.committers {
            Thread.start { [self] in commitLoop(MessageStore(connection: makeConnection())) }
        }
    }

    /// Stores `acceptance` with whatever else is waiting and returns its outcome once the
    /// transaction that holds it has committed. Throws what the statement threw (the
    /// database down: the caller answers 503, and nothing of this message was stored).
    public func accept(_ acceptance: MessageStore.Acceptance) throws(PostgresError) -> MessageStore.Outcome {
        let ticket = Ticket(acceptance, done: lock.makeCondition())
        let result = lock.withLock {
            pending.append(ticket)
            workAvailable.signal()
            while ticket.result == nil { lock.wait(ticket.done) }
            return ticket.result!
        }
        return try result.get()
    }

    private func commitLoop(_ store: MessageStore) {
        while true {
            let batch = lock.withLock {
                while pending.isEmpty { lock.wait(workAvailable) }
                let count = min(pending.count, maximumBatch)
                defer { pending.removeFirst(count) }
                return Array(pending.prefix(count))
            }
            let results = Self.commit(batch.map(\.acceptance), store)
            lock.withLock {
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
