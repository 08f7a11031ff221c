/// A client's own reference for a message (`client_ref`, Vonage's habit): 1 to 64 visible
/// characters, stored with the message and carried in every event about it, so a client can
/// match events to its records without keeping our ids.
public struct ClientReference: Sendable, Equatable, Hashable {
    public static let maximumLength = 64
    public let text: String

    /// Checks `text`: 1 to 64 Unicode scalars (as JSON Schema's `maxLength` counts), no control
    /// characters or line separators, no leading or trailing space (a reference is matched
    /// exactly; invisible differences would confuse).
    public init(validating text: String, field: String = "client_ref") throws(ValidationError) {
        let count = text.unicodeScalars.count
        guard (1...Self.maximumLength).contains(count) else {
            throw ValidationError(
                .invalidClientRef, "`\(field)` must be 1 to \(Self.maximumLength) characters; got \(count).", field: field)
        }
        guard !text.unicodeScalars.contains(where: { [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }) else {
            throw ValidationError(.invalidClientRef, "`\(field)` must be visible characters; it contains a control character.", field: field)
        }
        guard text.first?.isWhitespace == false, text.last?.isWhitespace == false else {
            throw ValidationError(.invalidClientRef, "`\(field)` must not start or end with a space.", field: field)
        }
        self.text = text
    }
}
