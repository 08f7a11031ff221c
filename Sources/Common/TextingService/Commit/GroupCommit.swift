import TextingPostgres
import TextingSupport

/// Group commit: many request threads' writes in one transaction. Each write must be durable
/// before its answer, and a commit waits for a WAL flush: one commit per request would cap
/// a process at the flushes the disk can do, whatever the CPU. So request threads hand their
/// item here and sleep; a few committer threads, each with its own connection, take
/// everything waiting, write it with `commit` (one statement, one transaction, one flush),
/// and wake each request with its own outcome. Nothing waits on purpose: an item that
/// arrives while every committer is busy rides in the next batch, so batches grow with the
/// load and a lone request is committed at once.
///
/// Items with the same `key` never share a batch (the later one waits for the next), so a
/// batch statement may treat its rows as independent: two reports for one message are
/// applied one after the other, as if each had come alone.
public final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    /// Writes a batch on the committer's connection: one result per item, in order.
    public typealias Commit = @Sendable ([Item], PostgresConnection) -> [Result<Outcome, PostgresError>]

    /// Committer threads, hence connections: with two, one gathers the next batch while the
    /// other waits for its flush.
    public let committers: Int
    /// The most items in one batch.
    public let maximumBatch: Int

    /// A request waiting for its outcome.
    private final class Ticket: @unchecked Sendable {
        let item: Item
        let key: String?
        let done: WorkerThreads<State>.Condition
        /// Set under the lock by the committer that wrote it.
        var result: Result<Outcome, PostgresError>?

        init(_ item: Item, key: String?, done: WorkerThreads<State>.Condition) {
            self.item = item
            self.key = key
            self.done = done
        }
    }

    /// The requests no committer has taken yet.
    private struct State {
        var pending: [Ticket] = []
    }
    /// The committers wait for `pending` to fill; each request waits on its own ticket's
    /// condition, so a commit wakes only the requests it answers.
    private let committerThreads = WorkerThreads(State())
    private let key: (@Sendable (Item) -> String)?

    /// Starts the committer threads; each makes its connection on its own thread (a
    /// `PostgresConnection` belongs to one thread), which connects on its first batch.
    public init(
        committers: Int, maximumBatch: Int = 200, key: (@Sendable (Item) -> String)? = nil,
        makeConnection: @escaping @Sendable () -> PostgresConnection, commit: @escaping Commit
    ) {
        self.committers = max(1, committers)
        self.maximumBatch = max(1, maximumBatch)
        self.key = key
        committerThreads.start(count: self.committers) { [self] _ in commitLoop(makeConnection(), commit) }
    }

    /// Writes `item` with whatever else is waiting and returns its outcome once the
    /// transaction that holds it has committed, or the error its batch met (the database
    /// down: nothing of it was written).
    public func submit(_ item: Item) throws(PostgresError) -> Outcome {
        let ticket = Ticket(item, key: key?(item), done: committerThreads.makeCondition())
        committerThreads.withWork { $0.pending.append(ticket) }
        let result = committerThreads.withWork(waitingOn: ticket.done, until: { _ in ticket.result != nil }) { _ in ticket.result! }
        return try result.get()
    }

    private func commitLoop(_ connection: PostgresConnection, _ commit: Commit) {
        // The committers run as long as the process: nothing stops them.
        while let batch = committerThreads.next(waitingUntil: { !$0.pending.isEmpty }, { Self.take(&$0.pending, limit: maximumBatch) }) {
            let results = commit(batch.map(\.item), connection)
            committerThreads.withWork { _ in
                for (index, ticket) in batch.enumerated() {
                    ticket.result =
                        index < results.count
                        ? results[index]
                        : .failure(PostgresError(kind: .statement, sqlState: nil, message: "the batch gave no result for this item", queryName: nil))
                    ticket.done.signal()
                }
            }
        }
    }

    /// The oldest waiting tickets, at most `limit`, no two with the same key.
    private static func take(_ pending: inout [Ticket], limit: Int) -> [Ticket] {
        guard pending.contains(where: { $0.key != nil }) else {
            let count = min(pending.count, limit)
            defer { pending.removeFirst(count) }
            return Array(pending.prefix(count))
        }
        var batch: [Ticket] = []
        var keys: Set<String> = []
        var left: [Ticket] = []
        for ticket in pending {
            if batch.count < limit, ticket.key.map({ keys.insert($0).inserted }) ?? true {
                batch.append(ticket)
            } else {
                left.append(ticket)
            }
        }
        pending = left
        return batch
    }
}
