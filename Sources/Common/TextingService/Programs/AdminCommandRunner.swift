import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

/// Carries out a `textingctl` command: what it prints on standard output, or the one line
/// it fails with and the exit status. Commands that need no database (`sql`, `settings`,
/// `providers inbound-url`) never connect.
public struct AdminCommandRunner {
    /// How a command ended.
    public enum Outcome: Equatable, Sendable {
        /// Standard output, every line ending in a newline.
        case done(output: String)
        /// One line for standard error; 1: could not be carried out, 2: malformed.
        case failed(message: String, status: Int32)
    }

    private let environment: EnvironmentReader
    /// Where a command that writes more than fits in memory (`messages export`) writes as it
    /// goes; its outcome then holds nothing more.
    private let stream: (String) -> Void

    public init(environment: EnvironmentReader, stream: @escaping (String) -> Void = { print($0, terminator: "") }) {
        self.environment = environment
        self.stream = stream
    }

    private func connection(direct: Bool = false) throws -> PostgresConnection {
        let connection = try ServiceConfiguration.databaseConnection(environment, direct: direct)()
        try connection.open()
        return connection
    }

    /// The changes an operator makes, audited under the login name (`OperatorActions`).
    private func actions() throws -> OperatorActions {
        OperatorActions(connection: try connection(), actor: OperatorActor(name: operatorName, channel: .textingctl, remoteAddress: nil))
    }

    private static func lines(_ lines: String...) -> Outcome {
        .done(output: lines.map { $0 + "\n" }.joined())
    }

    public func run(_ command: AdminCommand) throws -> Outcome {
        switch command {
        case .migrate:
            let migrations = try Migrator.load(directory: try ServiceSettings.migrationsDirectory.read(environment))
            // Its advisory lock is the session's: never through a pooler.
            let applied = try Migrator(connection: try connection(direct: true)).apply(migrations)
            return Self.lines(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
        case .keysCreate(let name):
            let (key, secret) = try actions().createKey(name: name)
            // The key alone on stdout, so that scripts can capture it; the rest on stderr.
            Log.info("created API key \(key.publicID) (\(key.name)); store it now: it cannot be shown again")
            return Self.lines(secret)
        case .keysList:
            let rows = try APIKeyStore(connection: try connection()).list().map {
                [$0.publicID, $0.name, $0.prefix + "…", $0.createdAt, $0.revokedAt ?? "-"].joined(separator: "\t") + "\n"
            }
            return .done(output: "id\tname\tprefix\tcreated_at\trevoked_at\n" + rows.joined())
        case .keysRevoke(let id):
            guard try actions().revokeKey(publicID: id) else {
                return .failed(message: "no active key has the id \(id)", status: 1)
            }
            return Self.lines("revoked \(id)")
        case .keysSendersList(let id), .keysSendersAdd(let id, _, _, _), .keysSendersRemove(let id, _):
            return try keySenders(id: id, command: command)
        case .keysLimits(let id, let rate, let burst, let segmentsPerDay, let segmentsPerMonth):
            return try keyLimits(id: id, rate: rate, burst: burst, segmentsPerDay: segmentsPerDay, segmentsPerMonth: segmentsPerMonth)
        case .numbersReactivate(let typed):
            return try reactivate(typed)
        case .messagesRequeue(let id):
            let shown = id.uuidString.lowercased()
            switch try actions().requeue(id: id) {
            case .requeued: return Self.lines("requeued \(shown): queued again with a new job, attempts reset")
            case .notFound: return .failed(message: "no message has the id \(shown)", status: 1)
            case .refused(let reason): return .failed(message: "message \(shown) not requeued: \(reason)", status: 1)
            }
        case .messagesRequeueAll(let code):
            let outcome = try actions().requeueAll(errorCode: code)
            return Self.lines(
                "requeued \(outcome.requeued) failed messages with error code \(code)"
                    + (outcome.refused > 0 ? "; \(outcome.refused) refused (`textingctl messages requeue ID` says why)" : "")
                    + (outcome.more ? "; more remain: run it again" : ""))
        case .operatorsCreate(let name):
            let (made, token) = try actions().createOperator(name: name)
            Log.info("created operator \(made.publicID) (\(made.name)); store the token now: it cannot be shown again")
            return Self.lines(token)
        case .operatorsList:
            let rows = try OperatorStore(connection: try connection()).list().map {
                [$0.publicID, $0.name, $0.prefix + "…", $0.createdAt, $0.revokedAt ?? "-"].joined(separator: "\t") + "\n"
            }
            return .done(output: "id\tname\tprefix\tcreated_at\trevoked_at\n" + rows.joined())
        case .operatorsRevoke(let id):
            guard try actions().revokeOperator(publicID: id) else {
                return .failed(message: "no active operator has the id \(id.prefix(60))", status: 1)
            }
            return Self.lines("revoked operator \(id): their console sessions are ended")
        case .webhooksCreate(let keyID, let url, let types):
            return try createWebhook(keyID: keyID, url: url, types: types)
        case .webhooksList:
            let rows = try WebhookEndpointStore(connection: try connection()).listAll().map { key, endpoint in
                [endpoint.id, key, endpoint.url, endpoint.disabledAt == nil ? "enabled" : "disabled", endpoint.disabledReason ?? "-"]
                    .joined(separator: "\t") + "\n"
            }
            return .done(output: "id\tkey\turl\tstatus\tdisabled_reason\n" + rows.joined())
        case .webhooksDelete(let id):
            guard try WebhookEndpointStore(connection: try connection()).delete(id: id, owner: nil) else {
                return .failed(message: "no webhook endpoint has the id \(id.uuidString.lowercased())", status: 1)
            }
            return Self.lines("deleted webhook endpoint \(id.uuidString.lowercased())")
        case .webhooksEnable(let id):
            guard try WebhookEndpointStore(connection: try connection()).enable(id: id, owner: nil) else {
                return .failed(message: "no webhook endpoint has the id \(id.uuidString.lowercased())", status: 1)
            }
            return Self.lines("enabled webhook endpoint \(id.uuidString.lowercased())")
        case .webhooksRedeliver(let event):
            guard let queued = try WebhookEndpointStore(connection: try connection()).redeliver(event: event) else {
                return .failed(message: "no event has the id \(event.uuidString.lowercased())", status: 1)
            }
            return Self.lines("event \(event.uuidString.lowercased()): \(queued) deliveries queued")
        case .providersInboundURL:
            let base = try ServiceSettings.publicBaseURL.read(environment)
            let signer = try ServiceConfiguration.callbackSigner(environment)
            let rows = try ServiceSettings.providers.read(environment).map {
                "\($0.name)\t\(base)/messages/inbound?\(signer.inboundQuery(provider: $0.name))\n"
            }
            return .done(output: rows.joined())
        case .providersList:
            return try listProviders()
        case .providersPause(let name, let reason):
            guard try ServiceSettings.providers.read(environment).contains(where: { $0.name == name }) else {
                return .failed(message: "no configured provider is called \(name.prefix(40)); `textingctl providers` lists them", status: 1)
            }
            let actor = String(operatorName.prefix(100))
            guard try actions().pauseProvider(name, reason: reason) else {
                return Self.lines("\(name) is already paused: nothing changed")
            }
            return Self.lines("paused \(name) by \(actor): no sender sends to it from its next claim on; messages only it takes wait")
        case .providersResume(let name):
            guard try actions().resumeProvider(name) else {
                return Self.lines("\(name.prefix(40)) is not paused: nothing changed")
            }
            return Self.lines("resumed \(name): senders send to it again from their next claim")
        case .optOutsList:
            let rows = try OptOutStore(connection: try connection()).list().map {
                [$0.number, $0.since, $0.source, $0.actor, $0.reason].joined(separator: "\t") + "\n"
            }
            return .done(output: "number\tsince\tsource\tactor\treason\n" + rows.joined())
        case .optOutsAdd(let typed, let reason), .optOutsRemove(let typed, let reason):
            return try changeOptOut(typed, reason: reason, add: { if case .optOutsAdd = command { true } else { false } }())
        case .stats:
            return Self.lines(try MetricsStore(connection: try connection()).snapshot().report)
        case .prune:
            return Self.lines(try Pruning(connection: try connection()).prune().summary)
        case .messagesExport(let before):
            let written = try History(connection: try connection()).export(before: before) { messages in
                var text = ""
                for exported in messages {
                    guard case .object(var members) = exported.message.json else { continue }
                    members["api_key"] = JSONValue(exported.apiKey)
                    text += String(decoding: JSONValue.object(members).serialized(), as: UTF8.self) + "\n"
                }
                stream(text)
            }
            Log.info("exported \(written) message\(written == 1 ? "" : "s") made before \(before)")
            return .done(output: "")
        case .partitionsList:
            let rows = try History(connection: try connection()).partitions().map {
                [$0.table, String($0.span), $0.name, $0.startsAt ?? "-", $0.endsAt, String($0.estimatedRows), $0.detaching ? "detaching" : "attached"]
                    .joined(separator: "\t") + "\n"
            }
            return .done(output: "table\tspan\tpartition\tfrom\tuntil\testimated_rows\tstate\n" + rows.joined())
        case .partitionsMaintain:
            let retention = try ServiceSettings.retention(environment)
            return Self.lines(try History(connection: try connection()).maintain(retention: retention).summary)
        case .sql(nil):
            return Self.lines(NamedQueries.all.map(\.name).sorted().joined(separator: "\n"))
        case .sql(let name?):
            guard let query = NamedQueries.named(name) else {
                return .failed(message: "no statement is called \(name); `textingctl sql` lists them", status: 2)
            }
            return Self.lines(query.sql)
        case .settings(.table):
            return .done(output: ServiceSettings.markdownTable)
        case .settings(.example):
            return .done(output: ServiceSettings.exampleFile)
        }
    }

    /// An endpoint for a key, with the rules of the API (and the deployment's URL settings).
    private func createWebhook(keyID: String, url: String, types: [String]) throws -> Outcome {
        let draft: WebhookEndpointDraft
        do {
            let json: [String: JSONValue] = ["url": .string(url), "event_types": .array(types.map { .string($0) })]
            draft = try WebhookEndpointDraft(json: json, rules: try ServiceConfiguration.webhookURLRules(environment))
        } catch let error as ValidationError {
            return .failed(message: error.detail, status: 1)
        }
        let connection = try connection()
        let store = WebhookEndpointStore(connection: connection)
        guard let owner = try APIKeyStore(connection: connection).activeKey(publicID: keyID) else {
            return .failed(message: "no active key has the id \(keyID.prefix(60))", status: 1)
        }
        let secret = WebhookSecret.generate()
        switch try store.create(owner: owner, draft: draft, secret: secret) {
        case .created(let endpoint):
            Log.info("created webhook endpoint \(endpoint.id) for key \(keyID); its secret follows, once")
            return Self.lines(secret.text)
        case .tooMany:
            return .failed(message: "key \(keyID) already has \(WebhookEndpointStore.maximumEndpointsPerKey) webhook endpoints", status: 1)
        }
    }

    /// The configured providers with what the database knows of them (providers it knows that
    /// are no longer configured are listed too, marked so: their sends and cost still count).
    private func listProviders() throws -> Outcome {
        let configured = try ServiceSettings.providers.read(environment)
        let states = Dictionary(try ProviderHealthStore(connection: try connection()).states().map { ($0.provider, $0) }) { first, _ in first }
        let names = configured.map(\.name) + states.keys.filter { name in !configured.contains { $0.name == name } }.sorted()
        let rows = names.map { name -> String in
            let config = configured.first { $0.name == name }
            let state = states[name]
            let status = config == nil ? "not configured" : state?.pausedAt != nil ? "paused" : "active"
            let breaker =
                state.map { $0.breakerOpen ? "open" : $0.consecutiveFailures > 0 ? "closed (\($0.consecutiveFailures) failures)" : "closed" } ?? "closed"
            let limit = config?.tps.map { Self.rateOrPrice($0) + "/s" } ?? "-"
            let rate = config?.tps == nil ? "-" : state?.currentRate.map { Self.rateOrPrice($0) + "/s" } ?? "-"
            let prefixes = config.map { $0.prefixes.isEmpty ? "*" : $0.prefixes.joined(separator: ",") } ?? "-"
            let cost = config?.cost.map(Self.rateOrPrice) ?? "-"
            let paused = state?.pausedAt.map { "\($0) by \(state?.pausedBy ?? "?"): \(state?.pauseReason ?? "")" } ?? "-"
            return [
                name, status, breaker, limit, rate, prefixes, cost, String(state?.attempts ?? 0), String(state?.sends ?? 0),
                String(state?.segments ?? 0), state?.cost ?? "0", paused,
                state.map { "\($0.recentAccepted)/\($0.recentTemporaryFailures)/\($0.recentPermanentFailures)" } ?? "0/0/0",
                state?.lastFailure.map { "\(state?.lastFailureAt ?? "-") \($0)" } ?? "-",
            ].joined(separator: "\t") + "\n"
        }
        return .done(
            output: "name\tstate\tbreaker\tlimit\tcurrent_rate\tprefixes\tcost_per_segment\tattempts\tsends\tsegments\tcost\tpaused"
                + "\tlast_hour_accepted/temporary/permanent\tlast_failure\n" + rows.joined())
    }

    /// A rate or price as an operator reads it: at most 6 decimals, no trailing zeros.
    static func rateOrPrice(_ value: Double) -> String {
        DecimalText.format(value, decimals: 6)
    }

    /// Who an operator's change is kept under: the login name (through sudo, the one who ran it).
    private var operatorName: String {
        environment.optional("SUDO_USER") ?? environment.optional("USER") ?? environment.optional("LOGNAME") ?? "operator"
    }

    private func changeOptOut(_ typed: String, reason: String, add: Bool) throws -> Outcome {
        let verb = add ? "add" : "remove"
        let number: PhoneNumber
        do {
            number = try PhoneNumber(parsing: typed, defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment))
        } catch let error as ValidationError {
            return .failed(message: "optouts \(verb): \(error.detail)", status: 2)
        }
        let actor = String(operatorName.prefix(100))
        switch try actions().changeOptOut(number, add: add, reason: reason) {
        case .optedOut(let failed):
            return Self.lines("\(number.e164) opted out by \(actor): nothing more is sent to it; \(failed) queued messages failed (recipient_opted_out)")
        case .optedIn:
            return Self.lines("\(number.e164) opted in by \(actor): new messages to it are accepted again")
        case .unchanged:
            return Self.lines("\(number.e164) is already \(add ? "opted out" : "not on the opt-out list"): nothing changed")
        }
    }

    private func reactivate(_ typed: String) throws -> Outcome {
        let number: PhoneNumber
        do {
            number = try PhoneNumber(parsing: typed, defaultCountryCode: try ServiceSettings.defaultCountryCode.read(environment))
        } catch let error as ValidationError {
            return .failed(message: "numbers reactivate: \(error.detail)", status: 2)
        }
        // The operator typed the number: echoing it on stdout is fine; logs never show it.
        switch try actions().reactivate(number) {
        case .reactivated:
            return Self.lines(
                "reactivated \(number.e164): new messages to it are accepted again (its failed messages stay failed; `textingctl messages requeue ID` sends one again)"
            )
        case .alreadyActive:
            return Self.lines("\(number.e164) is already active: nothing changed")
        case .unknownNumber:
            return .failed(message: "no message was ever accepted for that number: nothing to reactivate", status: 1)
        }
    }
}

extension AdminCommandRunner {
    /// `keys senders`: list, add or remove, then the key's senders as they are.
    fileprivate func keySenders(id: String, command: AdminCommand) throws -> Outcome {
        let connection = try connection()
        guard let owner = try APIKeyStore(connection: connection).activeKey(publicID: id) else {
            return .failed(message: "no active key has the id \(id.prefix(40)) (see `textingctl keys list`)", status: 1)
        }
        let store = KeySendersStore(connection: connection)
        var said = ""
        switch command {
        case .keysSendersAdd(_, let sender, let pooled, let isDefault):
            try store.add(owner: owner, sender: try SenderID(validating: sender, field: "SENDER"), pooled: pooled, isDefault: isDefault)
            said = "allowed \(sender)\n"
        case .keysSendersRemove(_, let sender):
            guard try store.remove(owner: owner, sender: sender) else {
                return .failed(message: "the key has no sender \(sender.prefix(40))", status: 1)
            }
            said = "removed \(sender)\n"
        default:
            break
        }
        let rows = try store.list(owner: owner).map {
            [$0.sender, $0.pooled ? "pooled" : "-", $0.isDefault ? "default" : "-", $0.addedAt].joined(separator: "\t") + "\n"
        }
        return .done(output: said + "sender\tpool\tdefault\tadded_at\n" + rows.joined())
    }

    /// `keys limits`: the changes applied to the key's current limits (none: shown only).
    fileprivate func keyLimits(
        id: String, rate: KeyLimits.Change, burst: KeyLimits.Change, segmentsPerDay: KeyLimits.Change, segmentsPerMonth: KeyLimits.Change
    ) throws -> Outcome {
        let connection = try connection()
        guard let owner = try APIKeyStore(connection: connection).activeKey(publicID: id) else {
            return .failed(message: "no active key has the id \(id.prefix(40)) (see `textingctl keys list`)", status: 1)
        }
        let store = KeyLimitsStore(connection: connection)
        var changed = false
        if [rate, burst, segmentsPerDay, segmentsPerMonth] != [.keep, .keep, .keep, .keep] {
            let current = try store.usage(owner: owner)?.limits ?? .none
            let next: KeyLimits
            do {
                next = try current.applying(rate: rate, burst: burst, segmentsPerDay: segmentsPerDay, segmentsPerMonth: segmentsPerMonth)
            } catch {
                return .failed(message: error.detail, status: 2)
            }
            try store.set(owner: owner, limits: next)
            changed = true
        }
        guard let usage = try store.usage(owner: owner) else {
            return .failed(message: "no active key has the id \(id.prefix(40))", status: 1)
        }
        return .done(output: (changed ? "limits set\n" : "") + usage.report)
    }
}
