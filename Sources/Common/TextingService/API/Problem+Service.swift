import TextingDomain
import TextingFastCGI
import TextingPostgres
import TextingSupport

/// Where domain and database errors become problem documents: the API edge, and only here.
extension Problem {
    /// A domain rule's failure, answered as 422 with the rule's own code.
    public init(_ error: ValidationError) {
        self.init(Self.code(of: error.code), error.detail, field: error.field)
    }

    /// `body`'s value, or its domain error as a problem document.
    static func validating<Value>(_ body: () throws(ValidationError) -> Value) throws(Problem) -> Value {
        do {
            return try body()
        } catch {
            throw Problem(error)
        }
    }

    /// Each domain rule's problem code. Exhaustive: a new rule does not compile until it has one.
    static func code(of rule: ValidationError.Code) -> ProblemCode {
        switch rule {
        case .missingField: .missingField
        case .wrongType: .wrongType
        case .unknownField: .unknownField
        case .invalidParameter: .invalidParameter
        case .invalidPhoneNumber: .invalidPhoneNumber
        case .messageEmpty: .messageEmpty
        case .messageTooLong: .messageTooLong
        case .invalidMessage: .invalidMessage
        case .invalidClientRef: .invalidClientRef
        case .invalidWebhookURL: .invalidWebhookURL
        case .invalidSender: .invalidSender
        }
    }

    /// The answer to a database error a client can do something about (retry later), or nil
    /// for one that is our fault (a 500).
    public init?(_ error: PostgresError) {
        guard error.isTransient else { return nil }
        self = error.isUnavailable ? .databaseUnavailable : .databaseBusy
    }

    /// The 503 answer for a database that cannot be reached: clients should try again.
    public static let databaseUnavailable = Problem(
        .serviceUnavailable,
        "The database is unreachable. If it went away as the request was being stored, the message may exist: retry after a few seconds with the same Idempotency-Key to get it rather than a second one.",
        headers: [("Retry-After", "5")])

    /// The 503 answer for a request the database could not carry out now (it waited too long
    /// for a lock or a statement, or lost a race it could not retry): nothing was changed.
    public static let databaseBusy = Problem(
        .serviceUnavailable, "The database is busy and nothing was changed; retry after a few seconds (with the same Idempotency-Key for a POST).",
        headers: [("Retry-After", "5")])
}
