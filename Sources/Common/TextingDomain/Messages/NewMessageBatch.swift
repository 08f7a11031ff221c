import FoundationEssentials
import TextingSupport

/// A `POST /messages/batch` body: `messages`, up to `maximumMessages` message objects, and
/// optional `defaults`, fields every message takes unless it gives its own (any field of a
/// message but `to_number`). The batch's own shape and its defaults are checked whole (either
/// bad refuses the request); each message is checked alone, so one bad message refuses only
/// itself.
public struct NewMessageBatch: Sendable {
    /// Each message, in the order given: checked, or the rule it broke.
    public let items: [Result<NewMessage, ValidationError>]

    public static let maximumMessages = 1000
    public static let fields: Set<String> = ["messages", "defaults"]

    public init(
        json: [String: JSONValue], defaultCountryCode: String, webhookRules: WebhookURLRules = WebhookURLRules(), now: Date = .now
    ) throws(ValidationError) {
        if let unknown = json.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw ValidationError(
                .unknownField, "`\(unknown.prefix(64))` is not a field of a batch; send `messages` and optionally `defaults`.", field: unknown)
        }
        var defaults: [String: JSONValue] = [:]
        switch json["defaults"] {
        case nil, .null?:
            break
        case .object(let members)?:
            let allowed = NewMessage.fields.subtracting(["to_number"])
            if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw ValidationError(
                    .unknownField,
                    "`defaults` may hold \(allowed.sorted().map { "`\($0)`" }.joined(separator: ", ")); not `\(unknown.prefix(64))`.",
                    field: "defaults.\(unknown.prefix(64))")
            }
            // Checked once here: a bad default would fail every message the same way.
            var probe = members
            probe["to_number"] = .string("+15555550100")
            if probe["message"] == nil { probe["message"] = .string("-") }
            do {
                _ = try NewMessage(json: probe, defaultCountryCode: defaultCountryCode, webhookRules: webhookRules, now: now)
            } catch {
                throw ValidationError(error.code, "In `defaults`: \(error.detail)", field: "defaults.\(error.field)")
            }
            defaults = members
        case let other?:
            throw ValidationError(.wrongType, "`defaults` must be an object of message fields; got a \(other.typeName).", field: "defaults")
        }
        guard let messages = json["messages"] else {
            throw ValidationError(.missingField, "`messages` is required: an array of 1 to \(Self.maximumMessages) messages.", field: "messages")
        }
        guard case .array(let list) = messages else {
            throw ValidationError(.wrongType, "`messages` must be an array of messages; got a \(messages.typeName).", field: "messages")
        }
        guard (1...Self.maximumMessages).contains(list.count) else {
            throw ValidationError(
                .invalidParameter, "`messages` must hold 1 to \(Self.maximumMessages) messages; it holds \(list.count).", field: "messages")
        }
        if let index = list.firstIndex(where: { if case .object = $0 { false } else { true } }) {
            throw ValidationError(
                .wrongType, "Each of `messages` must be an object (a message); message \(index) is a \(list[index].typeName).", field: "messages")
        }
        items = list.map { item -> Result<NewMessage, ValidationError> in
            guard case .object(let fields) = item else {
                return .failure(ValidationError(.wrongType, "Each message must be an object.", field: "messages"))
            }
            let merged = defaults.merging(fields) { _, own in own }
            return Result { () throws(ValidationError) -> NewMessage in
                try NewMessage(json: merged, defaultCountryCode: defaultCountryCode, webhookRules: webhookRules, now: now)
            }
        }
    }
}
