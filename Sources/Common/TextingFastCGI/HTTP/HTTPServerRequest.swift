import TextingSupport

/// A request as nginx handed it over FastCGI.
public struct HTTPServerRequest: Sendable {
    public let method: String
    /// The decoded path without the query string (`DOCUMENT_URI`), e.g. `/messages/…`.
    public let path: String
    /// The raw query string, without `?`.
    public let queryString: String
    /// Request headers, names lowercased.
    public let headers: [String: String]
    public let body: [UInt8]
    /// nginx's `$request_id`, passed as `REQUEST_ID`.
    public let requestID: String?
    /// The client's address as nginx saw it (`REMOTE_ADDR`), when nginx passed it.
    public let remoteAddress: String?

    public init(
        method: String, path: String, queryString: String = "", headers: [String: String] = [:], body: [UInt8] = [], requestID: String? = nil,
        remoteAddress: String? = nil
    ) {
        self.remoteAddress = remoteAddress
        self.method = method
        self.path = path
        self.queryString = queryString
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The query parameters, percent-decoded (`+` as space). A repeated name keeps the first.
    public var queryParameters: [String: String] {
        Self.urlEncodedParameters(queryString)
    }

    /// A form's fields (`application/x-www-form-urlencoded`, what an HTML form posts), decoded
    /// like the query string; empty for any other media type or a body that is not UTF-8.
    public var formParameters: [String: String] {
        let mediaType = (header("content-type") ?? "").split(separator: ";").first.map { $0.trimmed.lowercased() } ?? ""
        guard mediaType == "application/x-www-form-urlencoded", let text = String(validating: body, as: UTF8.self) else { return [:] }
        return Self.urlEncodedParameters(text)
    }

    /// `name=value&…` pairs, percent-decoded (`+` as space). A repeated name keeps the first;
    /// a pair that does not decode to UTF-8 is skipped.
    static func urlEncodedParameters(_ text: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.percentDecode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.percentDecode(parts[1]) : ""
            if parameters[name] == nil, let value { parameters[name] = value }
        }
        return parameters
    }

    /// The body as a JSON object, checked the way every JSON endpoint checks it: a JSON media
    /// type (else 415), well-formed JSON (else 400), an object at the top (else 422).
    public func jsonObject() throws(Problem) -> [String: JSONValue] {
        let mediaType = (header("content-type") ?? "").split(separator: ";").first.map { $0.trimmed.lowercased() } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw Problem(
                .unsupportedMediaType,
                mediaType.isEmpty
                    ? "Send the body as JSON with `Content-Type: application/json`."
                    : "Send the body as JSON with `Content-Type: application/json`; got `\(mediaType.prefix(64))`.")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw Problem(.malformedJSON, "The body is not well-formed JSON (\(error.reason.prefix(120))). Send one JSON object.")
        }
        guard case .object(let members) = value else {
            throw Problem(.wrongType, "The body must be a JSON object; got a JSON \(value.typeName).")
        }
        return members
    }

    static func percentDecode<S: StringProtocol>(_ text: S) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
