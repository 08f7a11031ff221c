import TextingSupport

/// A `POST /webhook_endpoints` body, checked: `url` (required), `event_types` (the types it
/// wants; absent or empty: every type) and `description` (for its owner, up to 200
/// characters).
public struct WebhookEndpointDraft: Sendable, Equatable {
    public let url: WebhookURL
    /// Empty: every type, including types added later.
    public let eventTypes: Set<EventType>
    public let description: String

    public static let fields: Set<String> = ["url", "event_types", "description"]
    public static let maximumDescriptionLength = 200

    public init(json: [String: JSONValue], rules: WebhookURLRules) throws(ValidationError) {
        if let unknown = json.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw ValidationError(
                .unknownField, "`\(unknown.prefix(64))` is not a field of a webhook endpoint; send `url` and optionally `event_types` and `description`.",
                field: unknown)
        }
        switch json["url"] {
        case .string(let text)?:
            url = try WebhookURL(validating: text, rules: rules, field: "url")
        case nil, .null?:
            throw ValidationError(.missingField, "`url` is required, e.g. \"url\": \"https://example.com/webhooks\".", field: "url")
        case let other?:
            throw ValidationError(.wrongType, "`url` must be a string; got a \(other.typeName).", field: "url")
        }
        switch json["event_types"] {
        case nil, .null?:
            eventTypes = []
        case .array(let items)?:
            var types: Set<EventType> = []
            for item in items {
                guard case .string(let name) = item else {
                    throw ValidationError(.wrongType, "`event_types` must be an array of strings.", field: "event_types")
                }
                guard let type = EventType(rawValue: name) else {
                    throw ValidationError(.invalidParameter, "`\(name.prefix(40))` is not an event type; use \(EventType.list).", field: "event_types")
                }
                types.insert(type)
            }
            eventTypes = types
        case let other?:
            throw ValidationError(.wrongType, "`event_types` must be an array of event types; got a \(other.typeName).", field: "event_types")
        }
        switch json["description"] {
        case nil, .null?:
            description = ""
        case .string(let text)?:
            guard text.unicodeScalars.count <= Self.maximumDescriptionLength,
                !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw ValidationError(
                    .invalidParameter, "`description` must be at most \(Self.maximumDescriptionLength) characters without control characters.",
                    field: "description")
            }
            description = text
        case let other?:
            throw ValidationError(.wrongType, "`description` must be a string; got a \(other.typeName).", field: "description")
        }
    }
}
