import FoundationEssentials
import TextingSupport

/// A `POST /messages` body, checked field by field. Once you hold one, every field is valid.
public struct NewMessage: Sendable {
    public let to: PhoneNumber
    public let body: MessageBody
    /// When the first attempt is due; nil for now.
    public let sendAt: Date?
    /// How long the message may wait for a successful send before it fails as `expired`.
    public let validitySeconds: Int?
    /// The client's own reference, carried in every event about the message.
    public let clientRef: ClientReference?
    /// The message's own webhook URL (Twilio's `StatusCallback`): every event about it is
    /// also delivered there, signed with the key's status-callback secret.
    public let statusCallback: WebhookURL?
    /// Who the message says it is from (`from`); nil: the key's default or pool, else the
    /// provider's own.
    public let from: SenderID?

    public static let fields: Set<String> = ["to_number", "message", "send_at", "validity_period", "client_ref", "status_callback", "from"]
    /// The longest validity a client may ask for: a week, as SMS centres commonly allow.
    public static let maximumValiditySeconds = 7 * 24 * 3600

    public init(
        json: [String: JSONValue], defaultCountryCode: String, webhookRules: WebhookURLRules = WebhookURLRules(), now: Date = .now
    ) throws(ValidationError) {
        if let unknown = json.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw ValidationError(
                .unknownField,
                "`\(unknown.prefix(64))` is not a field of a message; send `to_number`, `message` and optionally `send_at`, `validity_period`, `client_ref`, `status_callback` and `from`.",
                field: unknown)
        }
        let rawNumber = try Self.string(json, "to_number", example: "+15555550100")
        let rawMessage = try Self.string(json, "message", example: "Hello")
        to = try PhoneNumber(parsing: rawNumber, defaultCountryCode: defaultCountryCode)
        body = try MessageBody(validating: rawMessage)
        switch json["send_at"] {
        case nil, .null?:
            sendAt = nil
        case .string(let text)?:
            guard let seconds = RFC3339.secondsSince1970(text) else {
                throw ValidationError(
                    .invalidParameter, "`send_at` must be an RFC 3339 time such as 2026-12-01T09:30:00Z; got `\(text.prefix(40))`.", field: "send_at")
            }
            let date = Date(timeIntervalSince1970: seconds)
            guard date.timeIntervalSince(now) < Double(Self.maximumValiditySeconds * 5) else {
                throw ValidationError(.invalidParameter, "`send_at` may be at most 35 days ahead.", field: "send_at")
            }
            sendAt = date > now ? date : nil
        case let other?:
            throw ValidationError(.wrongType, "`send_at` must be a string (RFC 3339 time); got a \(other.typeName).", field: "send_at")
        }
        switch json["validity_period"] {
        case nil, .null?:
            validitySeconds = nil
        case .number(let seconds)?:
            guard seconds == seconds.rounded(), seconds >= 1, seconds <= Double(Self.maximumValiditySeconds) else {
                throw ValidationError(
                    .invalidParameter, "`validity_period` must be whole seconds from 1 to \(Self.maximumValiditySeconds); got \(seconds).",
                    field: "validity_period")
            }
            validitySeconds = Int(seconds)
        case let other?:
            throw ValidationError(.wrongType, "`validity_period` must be a number of seconds; got a \(other.typeName).", field: "validity_period")
        }
        switch json["client_ref"] {
        case nil, .null?:
            clientRef = nil
        case .string(let text)?:
            clientRef = try ClientReference(validating: text)
        case let other?:
            throw ValidationError(.wrongType, "`client_ref` must be a string; got a \(other.typeName).", field: "client_ref")
        }
        switch json["status_callback"] {
        case nil, .null?:
            statusCallback = nil
        case .string(let text)?:
            statusCallback = try WebhookURL(validating: text, rules: webhookRules, field: "status_callback")
        case let other?:
            throw ValidationError(.wrongType, "`status_callback` must be a string (a URL); got a \(other.typeName).", field: "status_callback")
        }
        switch json["from"] {
        case nil, .null?:
            from = nil
        case .string(let text)?:
            from = try SenderID(validating: text)
        case let other?:
            throw ValidationError(.wrongType, "`from` must be a string (a number, short code or sender id); got a \(other.typeName).", field: "from")
        }
    }

    private static func string(_ json: [String: JSONValue], _ field: String, example: String) throws(ValidationError) -> String {
        switch json[field] {
        case .string(let value)?:
            return value
        case nil:
            throw ValidationError(.missingField, "`\(field)` is required, e.g. \"\(field)\": \"\(example)\".", field: field)
        case let other?:
            throw ValidationError(.wrongType, "`\(field)` must be a string; got a \(other.typeName).", field: field)
        }
    }
}
