/// A request field that fails a domain rule. The HTTP layer answers it as a 422 problem
/// document whose `code` is `code` and whose `detail` is `detail`.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON field at fault, e.g. `to_number`.
    public let field: String
    /// The stable machine-readable code, e.g. `invalid_phone_number`.
    public let code: String
    /// One sentence that says what was wrong and how to fix it.
    public let detail: String

    public init(field: String, code: String, detail: String) {
        self.field = field
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(field): \(code): \(detail)" }
}
