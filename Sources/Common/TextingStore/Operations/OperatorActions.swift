import FoundationEssentials
import TextingDomain
import TextingPostgres

/// Every change an operator can make, from the console or from `textingctl`: one code path
/// each, and each writes its audit entry (`AuditLog`) in its own transaction, so a change
/// that commits always has its entry and an entry never names a change that rolled back.
public struct OperatorActions {
    private let connection: PostgresConnection
    private let actor: OperatorActor

    public init(connection: PostgresConnection, actor: OperatorActor) {
        self.connection = connection
        self.actor = actor
    }

    /// At most this many messages are requeued by one "requeue all with this code".
    public static let requeueAllLimit = 1000

    /// Runs `change` and records its outcome in one transaction; a deadlock or serialization
    /// failure runs both again (nothing outside the database happens in between).
    private func audited<T>(_ action: String, target: String, _ change: (PostgresConnection) throws -> T, outcome: (T) -> String) throws -> T {
        try connection.transaction(retryingConflicts: 2) { connection in
            let result = try change(connection)
            try AuditLog(connection: connection).record(actor, action: action, target: target, outcome: outcome(result))
            return result
        }
    }

    /// Records an action that changes nothing by itself (a sign-in, a refused one).
    public func record(_ action: String, target: String, outcome: String) throws {
        try AuditLog(connection: connection).record(actor, action: action, target: target, outcome: outcome)
    }

    /// `textingctl messages requeue ID`: a failed message queued again (`MessageRequeue`).
    public func requeue(id: UUID) throws -> MessageRequeue.Outcome {
        try audited("messages.requeue", target: id.uuidString.lowercased(), { try MessageRequeue(connection: $0).requeue(id: id) }) { outcome in
            switch outcome {
            case .requeued: "requeued"
            case .notFound: "refused: no such message"
            case .refused(let reason): "refused: \(reason)"
            }
        }
    }

    /// What one "requeue every failed message with this code" did.
    public struct RequeueAllOutcome: Sendable, Equatable {
        public var requeued = 0
        /// Messages `MessageRequeue` refused (a number inactive since, an expired validity).
        public var refused = 0
        /// More failed messages with the code remain (more than `requeueAllLimit` matched).
        public var more = false
    }

    /// `textingctl messages requeue --error-code CODE`: every failed message with that error
    /// code (at most `requeueAllLimit`, oldest first), each through `MessageRequeue` as one
    /// requeue would be, in one transaction with one audit entry.
    public func requeueAll(errorCode: String) throws -> RequeueAllOutcome {
        try audited(
            "messages.requeue_all", target: "error_code=\(errorCode)",
            { connection in
                let ids = try connection.execute(Self.failedWithCode, [errorCode, String(Self.requeueAllLimit + 1)]).rows.compactMap {
                    $0["public_id"].flatMap(UUID.init(uuidString:))
                }
                var outcome = RequeueAllOutcome(more: ids.count > Self.requeueAllLimit)
                for id in ids.prefix(Self.requeueAllLimit) {
                    if try MessageRequeue(connection: connection).requeue(id: id) == .requeued {
                        outcome.requeued += 1
                    } else {
                        outcome.refused += 1
                    }
                }
                return outcome
            }
        ) { "requeued \($0.requeued), refused \($0.refused)" + ($0.more ? ", more remain" : "") }
    }

    /// `textingctl keys create NAME`.
    public func createKey(name: String) throws -> (key: APIKey, secret: String) {
        try audited("keys.create", target: name, { try APIKeyStore(connection: $0).create(name: name) }) { "created \($0.key.publicID)" }
    }

    /// `textingctl keys revoke ID`: false when no active key has that id.
    public func revokeKey(publicID: String) throws -> Bool {
        try audited("keys.revoke", target: publicID, { try APIKeyStore(connection: $0).revoke(publicID: publicID) }) {
            $0 ? "revoked" : "refused: no active key has that id"
        }
    }

    /// `textingctl numbers reactivate NUMBER`.
    public func reactivate(_ number: PhoneNumber) throws -> PhoneNumberReactivation.Outcome {
        try audited("numbers.reactivate", target: number.e164, { try PhoneNumberReactivation(connection: $0).reactivate(number) }) { outcome in
            switch outcome {
            case .reactivated: "reactivated"
            case .alreadyActive: "unchanged: already active"
            case .unknownNumber: "refused: no message was ever accepted for it"
            }
        }
    }

    /// `textingctl optouts add NUMBER REASON` (`add`) or `optouts remove NUMBER REASON`: the
    /// number put on the opt-out list or taken off it, kept with the operator's name.
    public func changeOptOut(_ number: PhoneNumber, add: Bool, reason: String) throws -> OptOutStore.Outcome {
        try audited(
            add ? "optouts.add" : "optouts.remove", target: number.e164,
            { connection in
                let store = OptOutStore(connection: connection)
                return add
                    ? try store.optOut(number, source: .operator, actor: actor.name, reason: reason)
                    : try store.optIn(number, source: .operator, actor: actor.name, reason: reason)
            }
        ) { outcome in
            switch outcome {
            case .optedOut(let failed): "opted out (\(failed) queued messages failed): \(reason)"
            case .optedIn: "opted in: \(reason)"
            case .unchanged: "unchanged"
            }
        }
    }

    /// `textingctl providers pause NAME [WHY]`: false when it was paused already.
    public func pauseProvider(_ name: String, reason: String) throws -> Bool {
        try audited("providers.pause", target: name, { try ProviderHealthStore(connection: $0).pause(name, by: actor.name, reason: reason) }) {
            $0 ? "paused: \(reason)" : "unchanged: already paused"
        }
    }

    /// `textingctl providers resume NAME`: false when it was not paused.
    public func resumeProvider(_ name: String) throws -> Bool {
        try audited("providers.resume", target: name, { try ProviderHealthStore(connection: $0).resume(name) }) {
            $0 ? "resumed" : "unchanged: not paused"
        }
    }

    /// `textingctl operators create NAME`: the operator and their token, shown once.
    public func createOperator(name: String) throws -> (operator: OperatorStore.Operator, token: String) {
        try audited("operators.create", target: name, { try OperatorStore(connection: $0).create(name: name) }) { "created \($0.operator.publicID)" }
    }

    /// `textingctl operators revoke ID`: the operator's sessions end with it.
    public func revokeOperator(publicID: String) throws -> Bool {
        try audited("operators.revoke", target: publicID, { try OperatorStore(connection: $0).revoke(publicID: publicID) }) {
            $0 ? "revoked" : "refused: no active operator has that id"
        }
    }

    /// The failed messages with an error code, oldest first (`messages_failed_error_code`,
    /// the partial index of 0027 as 0032 remade it: of the messages with a `failed_at`).
    static let failedWithCode = Query(
        "operator_actions.failed_with_code",
        "SELECT public_id::text AS public_id FROM messages WHERE failed_at IS NOT NULL AND status = 'failed' AND error_code = $1 ORDER BY id LIMIT $2::int")
}
