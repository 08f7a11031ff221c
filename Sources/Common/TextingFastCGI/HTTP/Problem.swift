import TextingSupport

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
        Problem(
            .methodNotAllowed, "\(method) is not supported here; use \(allowed.joined(separator: " or ")).",
            headers: [("Allow", allowed.joined(separator: ", "))])
    }
}
