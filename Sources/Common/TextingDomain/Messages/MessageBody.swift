/// A message text that has passed the service's rules, carrying its segmentation so that
/// cost is known before anything is queued.
public struct MessageBody: Sendable, Equatable {
    /// The text exactly as the client sent it; nothing is trimmed or rewritten.
    public let text: String
    /// How the text will be split on the air.
    public let segmentation: SMSSegmentation

    /// Upper bound in Unicode scalars, matching the database's `char_length` check, so a body
    /// accepted here is never refused by the column constraint.
    public static let maximumLength = 1600

    /// Rejects what can never be delivered: empty text, text over ``maximumLength`` scalars,
    /// and NUL, which PostgreSQL text columns cannot store.
    public init(validating text: String) throws(ValidationError) {
        let length = text.unicodeScalars.count
        guard length > 0 else {
            throw ValidationError(
                field: "message", code: .messageEmpty,
                detail: "`message` must contain at least one character."
            )
        }
        guard length <= Self.maximumLength else {
            throw ValidationError(
                field: "message", code: .messageTooLong,
                detail: "`message` may be at most \(Self.maximumLength) characters; got \(length)."
            )
        }
        guard !text.unicodeScalars.contains("\u{0}") else {
            throw ValidationError(
                field: "message", code: .invalidMessage,
                detail: "`message` contains NUL characters (U+0000), which cannot be sent; remove them."
            )
        }
        self.text = text
        self.segmentation = SMSSegmentation(text: text)
    }
}
