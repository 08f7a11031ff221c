import FoundationEssentials
import TextingDomain

/// A `textingctl` command line, read and checked before anything touches the database.
public enum AdminCommand: Equatable, Sendable {
    case migrate
    case keysCreate(name: String)
    case keysList
    case keysRevoke(id: String)
    case keysSendersList(id: String)
    case keysSendersAdd(id: String, sender: String, pooled: Bool, isDefault: Bool)
    case keysSendersRemove(id: String, sender: String)
    /// Shows a key's limits and usage; with changes, sets them first.
    case keysLimits(id: String, rate: KeyLimits.Change, burst: KeyLimits.Change, segmentsPerDay: KeyLimits.Change, segmentsPerMonth: KeyLimits.Change)
    /// The number as typed; it is normalised with the deployment's default country code.
    case numbersReactivate(number: String)
    case messagesRequeue(id: UUID)
    /// Every failed message with this error code (at most `OperatorActions.requeueAllLimit`).
    case messagesRequeueAll(errorCode: String)
    case operatorsCreate(name: String)
    case operatorsList
    case operatorsRevoke(id: String)
    /// Every message made before the time (RFC 3339, or a date: its midnight UTC), as JSON Lines.
    case messagesExport(before: String)
    case partitionsList
    case partitionsMaintain
    case stats
    case prune
    case webhooksCreate(keyID: String, url: String, eventTypes: [String])
    case webhooksList
    case webhooksDelete(id: UUID)
    case webhooksEnable(id: UUID)
    case webhooksRedeliver(event: UUID)
    case optOutsList
    /// Each provider's signed URL for recipients' replies. Needs no database.
    case providersInboundURL
    case providersList
    case providersPause(name: String, reason: String)
    case providersResume(name: String)
    /// The number as typed (normalised like `numbers reactivate`), and why.
    case optOutsAdd(number: String, reason: String)
    case optOutsRemove(number: String, reason: String)
    /// Print a named statement's SQL (no name: list the names). Needs no database.
    case sql(name: String?)
    /// Print the settings as the README's table or as the example settings file. Needs no database.
    case settings(SettingsFormat)

    public enum SettingsFormat: String, Equatable, Sendable {
        case table, example
    }

    /// A malformed command: `message` is the one line to print (exit status 2).
    public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The usage lines of `textingctl --help`, one per command.
    public static let usageLines = [
        "textingctl migrate                      apply the pending SQL migrations of TEXTING_MIGRATIONS_DIR",
        "textingctl keys create NAME             make an API key; prints it once (only its hash is stored)",
        "textingctl keys list                    list keys: id, name, prefix, created, revoked",
        "textingctl keys revoke ID               revoke a key: its requests get 401 from then on",
        "textingctl keys senders ID              list the senders (`from`) a key may use: sender, pooled, default",
        "textingctl keys senders add ID SENDER [--pool] [--default]  allow a sender (+E.164, short code, alphanumeric id); --pool: shared among its recipients, each keeping one; --default: used when a message gives no `from`",
        "textingctl keys senders remove ID SENDER  stop a key sending with SENDER (messages already accepted keep it)",
        "textingctl keys limits ID [--rate 50/s] [--burst 200] [--segments-per-day N] [--segments-per-month N]  set a key's limits (each also `none`); without options, show them with its usage",
        "textingctl numbers reactivate NUMBER    make an inactive number (reported invalid) active again",
        "textingctl messages requeue ID          queue a failed message again (new job, attempts reset)",
        "textingctl messages requeue --error-code CODE  queue again every failed message with that error code (at most 1000 a time)",
        "textingctl operators create NAME        make an operator token for the console (/admin); prints it once (only its hash is stored)",
        "textingctl operators list               list operators: id, name, prefix, created, revoked",
        "textingctl operators revoke ID          revoke an operator's token and end their console sessions",
        "textingctl messages export --before DATE  write every message made before DATE (2026-01-31 or RFC 3339) as JSON Lines to standard output",
        "textingctl partitions                   list the history's partitions: table, span, from, until, estimated rows",
        "textingctl partitions maintain          make the partitions ahead and drop those past TEXTING_RETENTION_DAYS now (every sender does at the end of each run)",
        "textingctl stats                        queue depth, due jobs, oldest due age, messages by status, breakers",
        "textingctl prune                        delete Idempotency-Key records older than 24 hours",
        "textingctl webhooks create KEY URL [TYPES]  add a webhook endpoint to a key (TYPES: comma-separated); prints its secret once",
        "textingctl webhooks list                list every webhook endpoint: id, key, url, status, why disabled",
        "textingctl webhooks delete ID           delete a webhook endpoint with its queued deliveries",
        "textingctl webhooks enable ID           enable a disabled webhook endpoint again",
        "textingctl webhooks redeliver EVENT     queue an event again for its key's endpoints and status_callback",
        "textingctl providers inbound-url        print each provider's signed URL for recipients' replies (POST /messages/inbound)",
        "textingctl providers                    list providers: state (active/paused), breaker, limit, current rate, prefixes, sends, cost",
        "textingctl providers pause NAME [WHY]   stop every sender sending to NAME (its messages wait or go to others); kept with your login name",
        "textingctl providers resume NAME        let every sender send to NAME again",
        "textingctl optouts list                 list the numbers on the opt-out list: number, since, by whom (source, actor), why",
        "textingctl optouts add NUMBER REASON    put a number on the opt-out list (its queued messages fail); kept with your login name",
        "textingctl optouts remove NUMBER REASON take a number off the opt-out list (new messages to it are accepted again)",
        "textingctl sql [NAME]                   print the SQL of the named statement (no NAME: list the names)",
        "textingctl settings table|example       print every setting as the README's table or as the example settings file",
    ]

    /// `keys senders ID`, `keys senders add ID SENDER [--pool] [--default]`, `keys senders remove ID SENDER`.
    static func parseSenders(_ arguments: [String]) throws(UsageError) -> AdminCommand {
        switch arguments.first {
        case "add"?:
            let flags = Set(arguments.dropFirst(3))
            guard arguments.count >= 3, flags.isSubset(of: ["--pool", "--default"]), flags.count == arguments.count - 3 else {
                throw UsageError(
                    message:
                        "keys senders add needs the key's id and a sender, then --pool and/or --default, e.g. `textingctl keys senders add ID +15555550100 --default`"
                )
            }
            do {
                _ = try SenderID(validating: arguments[2], field: "SENDER")
            } catch {
                throw UsageError(message: error.detail)
            }
            return .keysSendersAdd(id: arguments[1], sender: arguments[2], pooled: flags.contains("--pool"), isDefault: flags.contains("--default"))
        case "remove"?:
            guard arguments.count == 3 else { throw UsageError(message: "keys senders remove needs the key's id and the sender") }
            return .keysSendersRemove(id: arguments[1], sender: arguments[2])
        case let id? where arguments.count == 1 && !id.hasPrefix("--"):
            return .keysSendersList(id: id)
        default:
            throw UsageError(message: "keys senders takes ID, add ID SENDER [--pool] [--default], or remove ID SENDER")
        }
    }

    /// `keys limits ID [--rate R] [--burst N] [--segments-per-day N] [--segments-per-month N]`.
    static func parseLimits(_ arguments: [String]) throws(UsageError) -> AdminCommand {
        guard let id = arguments.first, !id.hasPrefix("--") else {
            throw UsageError(message: "keys limits needs the key's id (see `textingctl keys list`), e.g. `textingctl keys limits ID --rate 50/s`")
        }
        var changes: [String: KeyLimits.Change] = [:]
        var index = 1
        while index < arguments.count {
            let option = arguments[index]
            guard ["--rate", "--burst", "--segments-per-day", "--segments-per-month"].contains(option), changes[option] == nil else {
                throw UsageError(
                    message: "keys limits takes --rate, --burst, --segments-per-day and --segments-per-month, each once; got `\(option.prefix(40))`")
            }
            guard index + 1 < arguments.count else { throw UsageError(message: "\(option) needs a value (or `none`)") }
            let value = arguments[index + 1]
            do {
                changes[option] =
                    option == "--rate"
                    ? try KeyLimits.parseRate(value)
                    : try KeyLimits.parseCount(
                        value, option: option, minimum: option == "--burst" ? 1 : 0,
                        maximum: option == "--burst" ? KeyLimits.maximumBurst : KeyLimits.maximumSegments)
            } catch {
                throw UsageError(message: error.detail)
            }
            index += 2
        }
        return .keysLimits(
            id: id, rate: changes["--rate"] ?? .keep, burst: changes["--burst"] ?? .keep, segmentsPerDay: changes["--segments-per-day"] ?? .keep,
            segmentsPerMonth: changes["--segments-per-month"] ?? .keep)
    }

    /// Reads the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(UsageError) -> AdminCommand {
        let rest = Array(arguments.dropFirst(2))
        switch (arguments.first, arguments.dropFirst().first) {
        case ("migrate"?, nil):
            return .migrate
        case ("keys"?, "create"?):
            let name = rest.joined(separator: " ").trimmed
            guard (1...100).contains(name.count) else {
                throw UsageError(message: "keys create needs a name of 1 to 100 characters, e.g. `textingctl keys create billing-service`")
            }
            return .keysCreate(name: name)
        case ("keys"?, "list"?) where rest.isEmpty:
            return .keysList
        case ("keys"?, "senders"?):
            return try parseSenders(rest)
        case ("keys"?, "limits"?):
            return try parseLimits(rest)
        case ("keys"?, "revoke"?):
            guard rest.count == 1 else { throw UsageError(message: "keys revoke needs the key's id (see `textingctl keys list`)") }
            return .keysRevoke(id: rest[0])
        case ("numbers"?, "reactivate"?):
            guard rest.count == 1 else {
                throw UsageError(message: "numbers reactivate needs one phone number, e.g. `textingctl numbers reactivate +15555550100`")
            }
            return .numbersReactivate(number: rest[0])
        case ("messages"?, "requeue"?) where rest.first == "--error-code":
            guard rest.count == 2, (1...64).contains(rest[1].count) else {
                throw UsageError(
                    message: "messages requeue --error-code needs one error code, e.g. `textingctl messages requeue --error-code provider_rejected`")
            }
            return .messagesRequeueAll(errorCode: rest[1])
        case ("operators"?, "create"?):
            let name = rest.joined(separator: " ").trimmed
            guard (1...100).contains(name.count) else {
                throw UsageError(message: "operators create needs a name of 1 to 100 characters, e.g. `textingctl operators create alice`")
            }
            return .operatorsCreate(name: name)
        case ("operators"?, nil),
            ("operators"?, "list"?) where rest.isEmpty:
            return .operatorsList
        case ("operators"?, "revoke"?):
            guard rest.count == 1 else { throw UsageError(message: "operators revoke needs the operator's id (see `textingctl operators list`)") }
            return .operatorsRevoke(id: rest[0])
        case ("messages"?, "requeue"?):
            guard rest.count == 1 else {
                throw UsageError(message: "messages requeue needs one message id, e.g. `textingctl messages requeue 4b6d1f0e-6a43-4c07-9d0b-2f1f5b0b8f7e`")
            }
            guard let id = UUID(uuidString: rest[0]) else {
                throw UsageError(message: "messages requeue needs a message id (a UUID as the API shows it); got `\(rest[0].prefix(60))`")
            }
            return .messagesRequeue(id: id)
        case ("messages"?, "export"?):
            guard rest.count == 2, rest[0] == "--before", let before = exportTime(rest[1]) else {
                throw UsageError(
                    message:
                        "messages export needs --before and a date or an RFC 3339 time, e.g. `textingctl messages export --before 2026-01-31 > messages.jsonl`")
            }
            return .messagesExport(before: before)
        case ("partitions"?, nil),
            ("partitions"?, "list"?) where rest.isEmpty:
            return .partitionsList
        case ("partitions"?, "maintain"?) where rest.isEmpty:
            return .partitionsMaintain
        case ("webhooks"?, "create"?):
            guard (2...3).contains(rest.count) else {
                throw UsageError(message: "webhooks create needs a key id and a URL, e.g. `textingctl webhooks create 7c1e… https://example.com/hooks`")
            }
            return .webhooksCreate(keyID: rest[0], url: rest[1], eventTypes: rest.count == 3 ? rest[2].split(separator: ",").map(String.init) : [])
        case ("webhooks"?, "list"?) where rest.isEmpty:
            return .webhooksList
        case ("webhooks"?, let verb?) where ["delete", "enable", "redeliver"].contains(verb):
            let what = verb == "redeliver" ? "event" : "webhook endpoint"
            guard rest.count == 1, let id = UUID(uuidString: rest[0]) else {
                throw UsageError(message: "webhooks \(verb) needs one \(what) id (a UUID as the API shows it)")
            }
            return verb == "delete" ? .webhooksDelete(id: id) : verb == "enable" ? .webhooksEnable(id: id) : .webhooksRedeliver(event: id)
        case ("providers"?, "inbound-url"?) where rest.isEmpty:
            return .providersInboundURL
        case ("providers"?, nil),
            ("providers"?, "list"?) where rest.isEmpty:
            return .providersList
        case ("providers"?, "pause"?):
            let reason = rest.dropFirst().joined(separator: " ").trimmed
            guard !rest.isEmpty, reason.count <= 500 else {
                throw UsageError(message: "providers pause needs a provider name and, optionally, why (at most 500 characters)")
            }
            return .providersPause(name: rest[0], reason: reason.isEmpty ? "paused by an operator" : reason)
        case ("providers"?, "resume"?):
            guard rest.count == 1 else { throw UsageError(message: "providers resume needs one provider name") }
            return .providersResume(name: rest[0])
        case ("optouts"?, "list"?) where rest.isEmpty:
            return .optOutsList
        case ("optouts"?, let verb?) where verb == "add" || verb == "remove":
            let reason = rest.dropFirst().joined(separator: " ").trimmed
            guard rest.count >= 2, (1...500).contains(reason.count) else {
                throw UsageError(
                    message:
                        "optouts \(verb) needs a phone number and a reason (kept with the change), e.g. `textingctl optouts \(verb) +15555550100 complaint by phone`"
                )
            }
            return verb == "add" ? .optOutsAdd(number: rest[0], reason: reason) : .optOutsRemove(number: rest[0], reason: reason)
        case ("stats"?, nil):
            return .stats
        case ("prune"?, nil):
            return .prune
        case ("sql"?, nil):
            return .sql(name: nil)
        case ("sql"?, let name?) where rest.isEmpty:
            return .sql(name: name)
        case ("settings"?, let format?) where rest.isEmpty:
            guard let format = SettingsFormat(rawValue: format) else {
                throw UsageError(message: "settings needs `table` or `example`; got `\(format.prefix(40))`")
            }
            return .settings(format)
        case ("settings"?, nil):
            throw UsageError(message: "settings needs `table` or `example`, e.g. `textingctl settings example`")
        case (nil, _):
            throw UsageError(message: "a command is needed; see `textingctl --help`")
        default:
            throw UsageError(message: "unknown command `\(arguments.prefix(2).joined(separator: " ").prefix(80))`; see `textingctl --help`")
        }
    }

    /// `YYYY-MM-DD` (its midnight UTC) or an RFC 3339 time with its offset, as PostgreSQL
    /// reads it without the session's time zone; nil for anything else.
    static func exportTime(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= bytes.count && bytes[range].allSatisfy { $0 >= 48 && $0 <= 57 } }
        guard bytes.count >= 10, digits(0..<4), bytes[4] == 45, digits(5..<7), bytes[7] == 45, digits(8..<10) else { return nil }
        if bytes.count == 10 { return text + "T00:00:00Z" }
        guard bytes.count <= 35, bytes[10] == 84 || bytes[10] == 116, digits(11..<13), bytes.count > 18, bytes[13] == 58, digits(14..<16),
            bytes[16] == 58, digits(17..<19)
        else { return nil }
        var rest = bytes[19...]
        if rest.first == 46 {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0 >= 48 && $0 <= 57 }
            guard (1...9).contains(fraction.count) else { return nil }
            rest = rest.dropFirst(fraction.count)
        }
        let offset = Array(rest)
        let isZulu = offset == [90] || offset == [122]
        let isOffset =
            offset.count == 6 && (offset[0] == 43 || offset[0] == 45) && offset[3] == 58
            && [offset[1], offset[2], offset[4], offset[5]].allSatisfy { $0 >= 48 && $0 <= 57 }
        return isZulu || isOffset ? text : nil
    }
}
