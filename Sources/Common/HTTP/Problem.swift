/// An RFC 9457 problem document: what went wrong, as `application/problem+json`, with the
/// stable `code` and a `detail` sentence a person can act on.
public struct Problem: Error, Sendable, CustomStringConvertible {
    public let code: ProblemCode
    public let detail: String
    /// The request field at fault, when there is one.
    public let field: String?
    /// Extra response headers (`Allow` on 405, `Retry-After` on 503).
    public let headers: [(name: String, value: String)]

    public init(_ code: ProblemCode, _ detail: String, field: String? = nil, headers: [(name: String, value: String)] = []) {
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers
    }

    /// A domain rule's failure, answered as 422 with the rule's own code.
    public init(_ error: ValidationError) {
        let code = ProblemCode(rawValue: error.code) ?? .invalidParameter
        self.init(code, error.detail, field: error.field)
    }

    public var description: String { "\(code.rawValue): \(detail)" }

    /// The document itself. `requestID` ties it to nginx's `$request_id` in the logs.
    public func document(requestID: String?) -> JSONValue {
        var members: [String: JSONValue] = [
            "type": .string("urn:texting:problem:\(code.rawValue)"),
            "title": .string(code.title),
            "status": .number(Double(code.status)),
            "detail": .string(detail),
            "code": .string(code.rawValue),
        ]
        if let field { members["field"] = .string(field) }
        if let requestID, !requestID.isEmpty { members["request_id"] = .string(requestID) }
        return .object(members)
    }

    /// The 405 answer, naming the methods the resource does take.
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> Problem {
        Problem(.methodNotAllowed, "\(method) is not supported here; use \(allowed.joined(separator: " or ")).",
                headers: [("Allow", allowed.joined(separator: ", "))])
    }

    /// The 503 answer for a database that cannot be reached: clients should try again.
    public static let databaseUnavailable = Problem(
        .serviceUnavailable, "The database is unreachable. If it went away as the request was being stored, the message may exist: retry after a few seconds with the same Idempotency-Key to get it rather than a second one.",
        headers: [("Retry-After", "5")])

    /// The 503 answer for a request the database could not carry out now (it waited too long
    /// for a lock or a statement, or lost a race it could not retry): nothing was changed.
    public static let databaseBusy = Problem(
        .serviceUnavailable, "The database is busy and nothing was changed; retry after a few seconds (with the same Idempotency-Key for a POST).",
        headers: [("Retry-After", "5")])
}
