import TextingSupport

/// One HTTP request for `HTTPClient`. A plain value: build it on any thread, send it from the
/// thread that owns the client.
public struct HTTPRequest: Sendable, Equatable {
    /// An absolute `http://` or `https://` URL; any other scheme is refused.
    public var url: String
    /// The request method, e.g. `POST`, `GET`, `PUT`. A `GET` or `HEAD` with an empty body
    /// sends no body; every other method sends `body` with a `Content-Length`.
    public var method: String
    /// Header fields sent as given. Set `Content-Type` yourself: without it curl labels a
    /// body `application/x-www-form-urlencoded`. A field with an empty value is sent empty.
    /// A name or value containing CR, LF or NUL is refused (it would inject header lines).
    public var headers: [HTTPHeader]
    /// The request body, copied by curl when the transfer starts; may be empty or binary.
    public var body: [UInt8]
    /// The limit for the whole transfer (queueing for a connection, connecting, sending,
    /// waiting, receiving). Must be positive, so that every transfer ends.
    public var timeoutMilliseconds: Int
    /// The limit for establishing the connection (TCP and TLS). Must be positive.
    public var connectTimeoutMilliseconds: Int
    /// The most bytes of response headers, and separately of response body, taken in: a peer
    /// that sends more is cut off (`HTTPClientError.responseTooLarge`), so no answer can fill
    /// the memory. Must be positive.
    public var maximumResponseBytes: Int
    /// When set, every new connection the request opens is checked against these rules before
    /// it is made (CURLOPT_OPENSOCKETFUNCTION, so the address actually connected to is the one
    /// checked, whatever DNS answered), environment proxies are not used, and a refused
    /// address fails the transfer with `HTTPClientError.destinationRefused`. Give every
    /// request of a client the same rules: a connection opened without them could be reused.
    public var destinationRules: NetworkDestinationRules?
    /// Only `https://` (an `http://` URL fails as an unsupported protocol).
    public var requireHTTPS: Bool
    /// When the body grows past `maximumResponseBytes`, stop reading there and still answer
    /// with the status and the body so far (for peers whose answer body does not matter),
    /// instead of failing with `responseTooLarge`. Oversized headers fail either way.
    public var acceptsTruncatedBody: Bool

    /// Creates a request; it is validated when `HTTPClient` starts it, not here.
    public init(
        url: String,
        method: String = "POST",
        headers: [HTTPHeader] = [],
        body: [UInt8] = [],
        timeoutMilliseconds: Int = 10_000,
        connectTimeoutMilliseconds: Int = 2_000,
        maximumResponseBytes: Int = 64 * 1024,
        destinationRules: NetworkDestinationRules? = nil,
        requireHTTPS: Bool = false,
        acceptsTruncatedBody: Bool = false
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.maximumResponseBytes = maximumResponseBytes
        self.destinationRules = destinationRules
        self.requireHTTPS = requireHTTPS
        self.acceptsTruncatedBody = acceptsTruncatedBody
    }
}
