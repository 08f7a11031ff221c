import TextingSupport

/// The FastCGI parameters of one request, validated: the one place that decides what a
/// FastCGI peer may hand us. nginx is the only intended peer, but any process in the
/// socket's group can connect, so every parameter the server reads is checked here and
/// nonsense is a 400 `bad_request` problem, never a trap.
///
/// The input is libfcgi's environment as bytes, one `NAME=value` entry each. libfcgi stores
/// each parameter as a C string, so a NUL byte inside one ends it there: what is checked is
/// what libfcgi kept. Text must be valid UTF-8 and is never repaired (`String(cString:)`
/// would turn every invalid sequence into U+FFFD, so two different `Idempotency-Key`s could
/// arrive as the same one): invalid UTF-8 anywhere we read is a 400. A header no handler
/// reads (`headersRead`) with a bad value is dropped instead.
///
/// Parameters read: `REQUEST_METHOD`, `DOCUMENT_URI` (else `SCRIPT_NAME`), `QUERY_STRING`,
/// `CONTENT_LENGTH`, `CONTENT_TYPE`, `REQUEST_ID` and every `HTTP_*`. Any
/// other parameter is ignored unchecked. One we read that appears twice with two values is
/// refused (nginx sends `DOCUMENT_URI` twice, with one value); `HTTP_*` repeats (nginx
/// before 1.23 sends a repeated header so) keep the last, as before.
public struct FastCGIParameters: Sendable, Equatable {
    /// More parameters than this is not a request nginx sends (its header buffers hold a few
    /// hundred headers at most).
    public static let maximumParameterCount = 1000
    /// The longest path, query string or header value: nginx's header buffers are 8 KiB.
    public static let maximumValueBytes = 8192
    /// The longest `HTTP_*` name.
    public static let maximumHeaderNameBytes = 256
    /// `REQUEST_ID` is nginx's `$request_id`, 32 hex digits.
    public static let maximumRequestIDBytes = 128
    /// The longest method (HTTP methods in use are at most 7 letters; WebDAV's at most 16).
    public static let maximumMethodBytes = 32

    public let method: String
    /// `DOCUMENT_URI` (nginx's decoded, normalised path), else `SCRIPT_NAME`; starts with `/`.
    public let path: String
    public let queryString: String
    /// Header names lowercased with `-` for `_`; `CONTENT_TYPE` as `content-type`.
    public let headers: [String: String]
    public let requestID: String?
    /// nginx's `$remote_addr` (`REMOTE_ADDR` in fastcgi_params): who sent the request, for the
    /// console's audit log. Nil when absent or not an address's characters.
    public let remoteAddress: String?
    /// The body's length in bytes, at most the limit for its path.
    public let contentLength: Int

    /// Validates `entries` (each `NAME=value`, as libfcgi's `envp` holds them). Throws a 400
    /// `bad_request` problem saying which parameter is wrong, or 413 `payload_too_large`
    /// for a well-formed `CONTENT_LENGTH` over `maximumBodyBytes`.
    public init(_ entries: [[UInt8]], maximumBodyBytes: Int) throws(Problem) {
        try self.init(entries, bodyLimits: BodyLimits(standard: maximumBodyBytes))
    }

    /// The same, with the body's limit by path (`bodyLimits`).
    public init(_ entries: [[UInt8]], bodyLimits: BodyLimits) throws(Problem) {
        guard entries.count <= Self.maximumParameterCount else {
            throw Self.bad("The request has \(entries.count) FastCGI parameters; at most \(Self.maximumParameterCount) are accepted.")
        }
        var named = ReadParameters()
        var headers: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = entry[..<equals]
            if name.starts(with: Self.httpPrefix) {
                let header = try Self.headerName(name.dropFirst(Self.httpPrefix.count))
                do {
                    headers[header] = try Self.text(
                        Array(entry[(equals + 1)...]), parameter: "the header \(header)", allowingTab: true, limit: Self.maximumValueBytes)
                } catch  where !Self.headersRead.contains(header) {
                    // A header no handler reads (a provider's Latin-1 User-Agent, say) is
                    // dropped rather than failing the request: it can do no harm unread.
                    continue
                }
            } else if let read = ReadName.named(name) {
                let value = Array(entry[(equals + 1)...])
                if let earlier = named[read], earlier != value {
                    throw Self.bad("The FastCGI parameter \(read.rawValue) is given twice, with different values.")
                }
                named[read] = value
            }
        }

        guard let methodBytes = named[.requestMethod] else { throw Self.bad("REQUEST_METHOD is missing.") }
        guard (1...Self.maximumMethodBytes).contains(methodBytes.count), HTTPToken.isToken(methodBytes) else {
            throw Self.bad("REQUEST_METHOD must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~) of at most \(Self.maximumMethodBytes) characters.")
        }
        method = String(decoding: methodBytes, as: UTF8.self)

        for pathName in [ReadName.documentURI, .scriptName] {
            guard let bytes = named[pathName] else { continue }
            guard bytes.first == UInt8(ascii: "/") else { throw Self.bad("\(pathName.rawValue) must start with `/`.") }
            _ = try Self.text(bytes, parameter: pathName.rawValue, allowingTab: false, limit: Self.maximumValueBytes)
        }
        guard let pathBytes = named[.documentURI] ?? named[.scriptName] else {
            throw Self.bad("DOCUMENT_URI (or SCRIPT_NAME) is missing.")
        }
        path = String(decoding: pathBytes, as: UTF8.self)

        if let query = named[.queryString] {
            queryString = try Self.text(query, parameter: "QUERY_STRING", allowingTab: false, limit: Self.maximumValueBytes)
        } else {
            queryString = ""
        }

        if let contentType = named[.contentType], !contentType.isEmpty {
            headers["content-type"] = try Self.text(contentType, parameter: "CONTENT_TYPE", allowingTab: true, limit: Self.maximumValueBytes)
        }
        self.headers = headers

        if let bytes = named[.requestID] {
            guard let id = Self.requestID(bytes) else {
                throw Self.bad("REQUEST_ID must be at most \(Self.maximumRequestIDBytes) visible ASCII characters.")
            }
            requestID = id
        } else {
            requestID = nil
        }
        remoteAddress = named[.remoteAddress].flatMap(Self.remoteAddress)
        contentLength = try Self.contentLength(named[.contentLength] ?? [], maximumBodyBytes: bodyLimits.bytes(forPath: path))
    }

    /// The request, once its body (exactly `contentLength` bytes) has been read.
    public func request(body: [UInt8]) -> HTTPServerRequest {
        HTTPServerRequest(
            method: method, path: path, queryString: queryString, headers: headers,
            body: body, requestID: requestID, remoteAddress: remoteAddress)
    }

    /// The request id to quote in a problem document when the parameters as a whole were
    /// refused: `REQUEST_ID` if it is itself valid, else none.
    public static func requestID(in entries: [[UInt8]]) -> String? {
        let prefix = Array("REQUEST_ID=".utf8)
        return entries.first { $0.starts(with: prefix) }.flatMap { requestID(Array($0.dropFirst(prefix.count))) }
    }

    /// The 400 answer for a body that ended before `CONTENT_LENGTH` bytes.
    public static func truncatedBody(received: Int, declared: Int) -> Problem {
        bad("The body ended after \(received) of the \(declared) bytes CONTENT_LENGTH declares.")
    }

    private static let httpPrefix = Array("HTTP_".utf8)
    /// The headers the handlers read: a bad value in one of these is a 400; in any other the
    /// header is dropped.
    static let headersRead: Set<String> = ["authorization", "idempotency-key", "content-type", "content-length"]
    /// The parameters read, besides `HTTP_*`.
    private enum ReadName: String, CaseIterable {
        case requestMethod = "REQUEST_METHOD"
        case documentURI = "DOCUMENT_URI"
        case scriptName = "SCRIPT_NAME"
        case queryString = "QUERY_STRING"
        case contentLength = "CONTENT_LENGTH"
        case contentType = "CONTENT_TYPE"
        case requestID = "REQUEST_ID"
        case remoteAddress = "REMOTE_ADDR"

        /// The cases in order (`allCases` makes a new array at each call), each a slot of
        /// `ReadParameters`.
        static let ordered = allCases
        /// Each name's bytes, compared against every parameter's name.
        private static let names = ordered.map { (name: $0, bytes: Array($0.rawValue.utf8)) }

        static func named(_ bytes: ArraySlice<UInt8>) -> ReadName? {
            names.first { $0.bytes.elementsEqual(bytes) }?.name
        }
    }

    /// The values of the parameters read, one slot each (a dictionary cost a hash and an
    /// insertion per parameter, on every request).
    private struct ReadParameters {
        private var values = [[UInt8]?](repeating: nil, count: ReadName.ordered.count)

        subscript(name: ReadName) -> [UInt8]? {
            get { values[ReadName.ordered.firstIndex(of: name)!] }
            set { values[ReadName.ordered.firstIndex(of: name)!] = newValue }
        }
    }

    private static func bad(_ detail: String) -> Problem { Problem(.badRequest, detail) }

    /// `CONTENT_LENGTH`: absent or empty (nginx sends it empty for a request without a
    /// body) is 0; otherwise decimal digits only, no sign, no spaces.
    private static func contentLength(_ bytes: [UInt8], maximumBodyBytes: Int) throws(Problem) -> Int {
        guard !bytes.isEmpty else { return 0 }
        guard bytes.count <= 18, bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw bad("CONTENT_LENGTH must be a decimal number of bytes (digits only, at most 18); got `\(SafeText.excerpt(bytes, maximumBytes: 20))`.")
        }
        let length = bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard length <= maximumBodyBytes else {
            throw Problem(.payloadTooLarge, "The body is \(length) bytes; at most \(maximumBodyBytes) are accepted.")
        }
        return length
    }

    /// An `HTTP_*` name's rest as nginx makes it from a header name (upper-case letters,
    /// digits, `_` for `-`), turned back into the lowercased header name.
    private static func headerName(_ bytes: ArraySlice<UInt8>) throws(Problem) -> String {
        let isNameByte: (UInt8) -> Bool = {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
        guard (1...maximumHeaderNameBytes).contains(bytes.count), bytes.allSatisfy(isNameByte) else {
            throw bad(
                "A header parameter must be HTTP_ and then at most \(maximumHeaderNameBytes) upper-case letters, digits or `_`; got `HTTP_\(SafeText.excerpt(bytes, maximumBytes: 20))`."
            )
        }
        return String(decoding: bytes.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 | 0x20 }, as: UTF8.self)
    }

    /// Valid UTF-8 without control characters (a tab where a header value allows one), at
    /// most `limit` bytes.
    /// `parameter` names it in the problem, and is only worked out for one.
    private static func text(_ bytes: [UInt8], parameter: @autoclosure () -> String, allowingTab: Bool, limit: Int) throws(Problem) -> String {
        guard bytes.count <= limit else { throw bad("\(parameter()) is \(bytes.count) bytes; at most \(limit) are accepted.") }
        guard !bytes.contains(where: { ($0 < 0x20 && !(allowingTab && $0 == 0x09)) || $0 == 0x7F }) else {
            throw bad("\(parameter()) contains a control character.")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw bad("\(parameter()) is not valid UTF-8.") }
        return text
    }

    /// An IPv4 or IPv6 address's characters (hex digits, `.`, `:`), at most 45 of them.
    private static func remoteAddress(_ bytes: [UInt8]) -> String? {
        let allowed: (UInt8) -> Bool = {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20)
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")
        }
        guard (1...45).contains(bytes.count), bytes.allSatisfy(allowed) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func requestID(_ bytes: [UInt8]) -> String? {
        guard (1...maximumRequestIDBytes).contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
