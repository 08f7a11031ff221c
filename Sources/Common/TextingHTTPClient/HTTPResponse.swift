/// A complete HTTP response. Any status, including 4xx and 5xx, is a response: only a failed
/// transfer is an `HTTPClientError`.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code of the final response, e.g. 200, 302, 500.
    public var status: Int
    /// The header fields of the final response in arrival order, names lowercased.
    public var headers: [HTTPHeader]
    /// The body bytes as received (not decoded or decompressed).
    public var body: [UInt8]

    /// Creates a response, e.g. for a stub in tests; header names are stored as given.
    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first header field called `name`, compared case-insensitively;
    /// `nil` when there is none.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body decoded as UTF-8; invalid sequences become U+FFFD rather than failing.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
