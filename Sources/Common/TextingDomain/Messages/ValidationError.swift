/// A request field that fails a domain rule. The domain knows no HTTP: the API edge answers
/// it as a 422 problem document whose `code` is `code.rawValue` and whose `detail` is `detail`.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which rule failed. The raw values are the API's stable `code`s: never rename one.
    public enum Code: String, Sendable, CaseIterable {
        case missingField = "missing_field"
        case wrongType = "wrong_type"
        case unknownField = "unknown_field"
        case invalidParameter = "invalid_parameter"
        case invalidPhoneNumber = "invalid_phone_number"
        case messageEmpty = "message_empty"
        case messageTooLong = "message_too_long"
        case invalidMessage = "invalid_message"
        case invalidClientRef = "invalid_client_ref"
        case invalidWebhookURL = "invalid_webhook_url"
        case invalidSender = "invalid_sender"
    }

    /// The JSON field or query parameter at fault, e.g. `to_number`.
    public let field: String
    public let code: Code
    /// One sentence that says what was wrong and how to fix it.
    public let detail: String

    public init(field: String, code: Code, detail: String) {
        self.field = field
        self.code = code
        self.detail = detail
    }

    public init(_ code: Code, _ detail: String, field: String) {
        self.init(field: field, code: code, detail: detail)
    }

    public var description: String { "\(field): \(code.rawValue): \(detail)" }
}
