/// Every error the HTTP API can answer, with its HTTP status and title, in one place. The raw
/// value is the stable machine-readable `code` clients branch on: never rename one.
public enum ProblemCode: String, Sendable, CaseIterable {
    case malformedJSON = "malformed_json"
    /// The request as it reached the FastCGI process is not HTTP (nginx's own `bad_request`
    /// for what it cannot parse uses the same code).
    case badRequest = "bad_request"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case unknownField = "unknown_field"
    case invalidPhoneNumber = "invalid_phone_number"
    case phoneNumberInactive = "phone_number_inactive"
    case recipientOptedOut = "recipient_opted_out"
    /// No configured provider takes numbers like this one (`;prefixes=` in TEXTING_PROVIDERS).
    case noRoute = "no_route"
    case messageEmpty = "message_empty"
    case messageTooLong = "message_too_long"
    case invalidMessage = "invalid_message"
    case invalidClientRef = "invalid_client_ref"
    case invalidWebhookURL = "invalid_webhook_url"
    /// `from` is not a phone number, short code or alphanumeric sender id.
    case invalidSender = "invalid_sender"
    /// `from` is not one of the senders an operator allowed the key (`textingctl keys senders`).
    case senderNotAllowed = "sender_not_allowed"
    case unknownStatus = "unknown_status"
    case invalidParameter = "invalid_parameter"
    case invalidIdempotencyKey = "invalid_idempotency_key"
    case idempotencyKeyReused = "idempotency_key_reused"
    case messageNotCancelable = "message_not_cancelable"
    case unauthorized = "unauthorized"
    case invalidSignature = "invalid_signature"
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case payloadTooLarge = "payload_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case rateLimited = "rate_limited"
    /// The API key's segment quota for the day or month is spent (`textingctl keys limits`).
    case quotaExceeded = "quota_exceeded"
    case serviceUnavailable = "service_unavailable"
    case internalError = "internal_error"

    /// The HTTP status this problem is answered with.
    public var status: Int {
        switch self {
        case .malformedJSON, .badRequest: 400
        case .missingField, .wrongType, .unknownField, .invalidPhoneNumber, .phoneNumberInactive, .recipientOptedOut, .noRoute,
            .messageEmpty, .messageTooLong, .invalidMessage, .invalidClientRef, .invalidWebhookURL, .invalidSender, .senderNotAllowed, .unknownStatus,
            .invalidParameter,
            .invalidIdempotencyKey, .idempotencyKeyReused:
            422
        case .messageNotCancelable: 409
        case .unauthorized, .invalidSignature: 401
        case .notFound: 404
        case .methodNotAllowed: 405
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .rateLimited, .quotaExceeded: 429
        case .serviceUnavailable: 503
        case .internalError: 500
        }
    }

    /// A short summary that does not change between occurrences (RFC 9457 `title`).
    public var title: String {
        switch self {
        case .malformedJSON: "Request body is not valid JSON"
        case .badRequest: "Bad request"
        case .missingField: "A required field is missing"
        case .wrongType: "A field has the wrong type"
        case .unknownField: "The request has a field this endpoint does not know"
        case .invalidPhoneNumber: "Invalid phone number"
        case .phoneNumberInactive: "Phone number is inactive"
        case .recipientOptedOut: "Recipient opted out"
        case .noRoute: "No provider takes this number"
        case .messageEmpty: "Message is empty"
        case .messageTooLong: "Message is too long"
        case .invalidMessage: "Message cannot be sent"
        case .invalidClientRef: "Invalid client reference"
        case .invalidWebhookURL: "Webhook URL not allowed"
        case .invalidSender: "Invalid sender"
        case .senderNotAllowed: "Sender not allowed for this API key"
        case .unknownStatus: "Unknown delivery status"
        case .invalidParameter: "Invalid parameter"
        case .invalidIdempotencyKey: "Invalid Idempotency-Key header"
        case .idempotencyKeyReused: "Idempotency-Key already used for another request"
        case .messageNotCancelable: "Message can no longer be canceled"
        case .unauthorized: "Authentication required"
        case .invalidSignature: "Callback signature missing, invalid or expired"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .payloadTooLarge: "Request body too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .rateLimited: "Too many requests"
        case .quotaExceeded: "Quota exceeded"
        case .serviceUnavailable: "Service temporarily unavailable"
        case .internalError: "Internal error"
        }
    }
}
