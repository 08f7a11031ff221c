/// One HTTP header field. A list of these keeps order and repeated names, which a dictionary
/// would lose.
public struct HTTPHeader: Sendable, Equatable, CustomStringConvertible {
    /// The field name, e.g. `Content-Type`. In an `HTTPResponse` it is lowercased.
    public let name: String
    /// The field value without surrounding whitespace.
    public let value: String

    /// Creates a header field; `HTTPRequest` validates it when the transfer starts.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The field as it appears on the wire, `Name: value`.
    public var description: String { "\(name): \(value)" }
}
