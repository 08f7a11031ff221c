import TextingSupport

/// The query string of `GET /messages`, checked: `to_number`, `status`, `client_ref`, `limit`
/// (1–100, default 20) and `after`, the opaque cursor a previous page returned as `next_after`.
public struct MessageListQuery: Sendable, Equatable {
    public let toNumber: PhoneNumber?
    public let status: MessageStatus?
    public let clientRef: ClientReference?
    public let limit: Int
    /// Only messages older than this internal id (decoded from `after`).
    public let before: Int64?

    public static let parameters: Set<String> = ["to_number", "status", "client_ref", "limit", "after"]
    /// A page's size when the client does not say, and the most it may ask for.
    public static let defaultPageSize = 20
    public static let maximumPageSize = 100

    public init(parameters: [String: String], defaultCountryCode: String) throws(ValidationError) {
        if let unknown = parameters.keys.sorted().first(where: { !Self.parameters.contains($0) }) {
            throw ValidationError(
                .invalidParameter, "`\(unknown.prefix(40))` is not a parameter of this listing; use to_number, status, client_ref, limit and after.",
                field: unknown)
        }
        if var raw = parameters["to_number"] {
            // An unencoded `+` arrives as a space (form encoding); a number never starts with one.
            if raw.first == " ", raw.dropFirst().first?.isNumber == true { raw = "+" + raw.dropFirst() }
            toNumber = try PhoneNumber(parsing: raw, defaultCountryCode: defaultCountryCode)
        } else {
            toNumber = nil
        }
        if let raw = parameters["status"] {
            guard let status = MessageStatus(rawValue: raw) else {
                throw ValidationError(
                    .invalidParameter, "`status` must be one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", ")); got `\(raw.prefix(40))`.",
                    field: "status")
            }
            self.status = status
        } else {
            status = nil
        }
        clientRef = try parameters["client_ref"].map { raw throws(ValidationError) in try ClientReference(validating: raw) }
        limit = try Self.pageSize(parameters["limit"])
        if let raw = parameters["after"] {
            guard let before = Self.decodeCursor(raw) else {
                throw ValidationError(.invalidParameter, "`after` must be a `next_after` value from a previous page, unchanged.", field: "after")
            }
            self.before = before
        } else {
            before = nil
        }
    }

    /// A page size from the `limit` parameter: 1 to 100, 20 when absent. Every listing of the
    /// API takes the same.
    public static func pageSize(_ raw: String?) throws(ValidationError) -> Int {
        guard let raw else { return defaultPageSize }
        guard let limit = Int(raw), (1...maximumPageSize).contains(limit) else {
            throw ValidationError(.invalidParameter, "`limit` must be a whole number from 1 to \(maximumPageSize); got `\(raw.prefix(40))`.", field: "limit")
        }
        return limit
    }

    /// The opaque cursor for "older than the message with this internal id".
    public static func cursor(before id: Int64) -> String {
        Base64URL.encode(Array("v1:\(id)".utf8))
    }

    static func decodeCursor(_ text: String) -> Int64? {
        guard text.utf8.count <= 64, let bytes = Base64URL.decode(text), let plain = String(validating: bytes, as: UTF8.self),
            plain.hasPrefix("v1:"), let id = Int64(plain.dropFirst(3)), id > 0
        else { return nil }
        return id
    }
}
