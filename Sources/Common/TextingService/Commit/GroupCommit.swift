import TextingPostgres
import TextingSupport

/// Group commit: many request threads' writes in one transaction. Each write must be durable
/// before its answer, and a commit waits for a WAL flush: one commit per request would cap
/// a process at the flushes the disk can do, whatever the CPU. So request threads hand their
/// item here and sleep; a few committer threads, each with its own connection, take
/// everything waiting, write it with `commit` (one statement, one transaction, one flush),
/// and wake each request with its own outcome. Nothing waits on purpose: an item that
/// arrives while every committer is busy rides in the next batch, so batches grow with the
/// load and a lone request is committed at once. Reads use it too (`MessageReader`): a
/// batch's one statement costs the database a fraction of one statement each.
///
/// Items with the same `key` never share a batch (the later one waits for the next), so a
/// batch statement may treat its rows as independent: two reports for one message are
/// applied one after the other, as if each had come alone. Items submitted together
/// (`submit(_:)` with several) always share one batch, however many they are.
public final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    /// Writes a batch on the committer's connection: one result per item, in order.
    public typealias Commit = @Sendable ([Item], PostgresConnection) -> [Result<Outcome, PostgresError>]

    /// Committer threads, hence connections: with two, one gathers the next batch while the
    /// other waits for its flush.
    public let committers: Int
    /// The most items in one batch.
    public let maximumBatch: Int

    /// A request waiting for the outcomes of its items.
    private final class Ticket: Sendable {
        let items: [Item]
        let keys: [String]
        /// The outcomes, one per item, handed by the committer that wrote them. The request
        /// waits on this alone, not on the queue's lock: a batch's requests wake together,
        /// and each reacquiring that lock kept the others (and the committers) waiting.
        let outcomes = Handoff<[Result<Outcome, PostgresError>]>()

        init(_ items: [Item], keys: [String]) {
            self.items = items
            self.keys = keys
        }
    }

    /// The requests no committer has taken yet.
    private struct State {
        var pending: [Ticket] = []
    }
    /// The committers wait for `pending` to fill.
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
        try submit([item])[0].get()
    }

    /// Writes `items` in one batch (one transaction), with whatever else is waiting if they
    /// leave room, and returns their outcomes, in order, once it has committed. Items given
    /// together must have distinct keys.
    public func submit(_ items: [Item]) -> [Result<Outcome, PostgresError>] {
        guard !items.isEmpty else { return [] }
        let ticket = Ticket(items, keys: key.map { key in items.map(key) } ?? [])
        committerThreads.withWork { $0.pending.append(ticket) }
        return ticket.outcomes.wait()
    }

    private func commitLoop(_ connection: PostgresConnection, _ commit: Commit) {
        // The committers run as long as the process: nothing stops them.
        while let batch = committerThreads.next(waitingUntil: { !$0.pending.isEmpty }, { Self.take(&$0.pending, limit: maximumBatch) }) {
            let results = commit(batch.flatMap(\.items), connection)
            var next = 0
            for ticket in batch {
                ticket.outcomes.hand(
                    ticket.items.indices.map { _ in
                        defer { next += 1 }
                        return next < results.count
                            ? results[next]
                            : .failure(PostgresError(kind: .statement, sqlState: nil, message: "the batch gave no result for this item", queryName: nil))
                    })
            }
        }
    }

    /// `write` for the whole batch, one result per item; should the database refuse it
    /// (something in one item the checks before did not catch), each item alone with `write`,
    /// so only that one fails. Not when the database is unavailable, nor for a batch of one:
    /// then every item gets the error. `what` names the batch in the warning logged.
    public static func eachAloneIfRefused(
        _ batch: [Item], _ what: String, _ write: ([Item]) throws(PostgresError) -> [Outcome]
    ) -> [Result<Outcome, PostgresError>] {
        do {
            return try write(batch).map { .success($0) }
        } catch {
            guard batch.count > 1, !error.isUnavailable else {
                return Array(repeating: .failure(error), count: batch.count)
            }
            Log.warning("\(what): a batch of \(batch.count) failed (\(error)); trying each alone")
            return batch.map { item in
                Result { () throws(PostgresError) -> Outcome in try write([item])[0] }
            }
        }
    }

    /// The oldest waiting tickets, at most `limit` items (a ticket of more goes alone), no two
    /// items with the same key.
    private static func take(_ pending: inout [Ticket], limit: Int) -> [Ticket] {
        var batch: [Ticket] = []
        var items = 0
        var keys: Set<String> = []
        var left: [Ticket] = []
        var index = pending.startIndex
        // Walks the queue only until the batch is full: under load it is much longer than a batch.
        while index < pending.endIndex, items < limit {
            let ticket = pending[index]
            if batch.isEmpty || items + ticket.items.count <= limit, keys.isDisjoint(with: ticket.keys) {
                batch.append(ticket)
                items += ticket.items.count
                keys.formUnion(ticket.keys)
            } else {
                left.append(ticket)
            }
            index += 1
        }
        pending = left + pending[index...]
        return batch
    }
}
