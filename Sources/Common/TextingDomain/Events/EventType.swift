/// What an event says happened. The raw values are the API's event `type`s (in `GET /events`,
/// webhook payloads and an endpoint's `event_types`): never rename one. The database trigger
/// that writes events (migrations 0007 and 0008) makes `message.<status>`, `message.expired`
/// and `phone_number.*`.
public enum EventType: String, Sendable, CaseIterable, Comparable {
    case messageSent = "message.sent"
    case messageDelivered = "message.delivered"
    /// Failed for good: a provider's permanent answer, retries exhausted, or the number became
    /// inactive while it waited; the event's message carries the error code.
    case messageFailed = "message.failed"
    /// A provider reported the number invalid (the number also becomes inactive).
    case messageInvalid = "message.invalid"
    case messageCanceled = "message.canceled"
    /// Not sent within its `validity_period` (status `failed`, error code `expired`).
    case messageExpired = "message.expired"
    /// A provider reported the number invalid: nothing more is sent to it. Every key that has
    /// texted the number hears it once.
    case phoneNumberInactive = "phone_number.inactive"
    /// The recipient opted out (a STOP reply, or an operator): nothing more is sent to it until
    /// it opts in. Every key that has texted the number hears it once.
    case phoneNumberOptedOut = "phone_number.opted_out"
    /// The recipient opted in again (a START reply, or an operator).
    case phoneNumberOptedIn = "phone_number.opted_in"
    /// A recipient replied; the key that last texted the number hears it, with the reply and
    /// that last message's id (`in_reply_to`), keywords included.
    case messageReceived = "message.received"

    public static func < (a: EventType, b: EventType) -> Bool { a.rawValue < b.rawValue }

    /// The types as one sentence's list, for error details.
    public static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// A comma-separated list of types (`message.sent,message.failed`), checked; every name
    /// must be known. `field` names the parameter in the error.
    public static func parseList(_ text: String, field: String) throws(ValidationError) -> Set<EventType> {
        var types: Set<EventType> = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingPrefixAndSuffixSpaces
            guard let type = EventType(rawValue: trimmed) else {
                throw ValidationError(.invalidParameter, "`\(trimmed.prefix(40))` is not an event type; use \(list).", field: field)
            }
            types.insert(type)
        }
        return types
    }
}

extension Substring {
    fileprivate var trimmingPrefixAndSuffixSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
