import CCurl
import TextingSupport

/// One request between `HTTPClient.start` and its completion. It owns everything curl points
/// into while the transfer runs (the easy handle, the header list) and is the context object
/// of the body and header callbacks, which fill in the response as it arrives.
///
/// Lifetime: `HTTPClient` holds the only strong reference in its table of active transfers
/// and drops it only after the easy handle has left the multi handle and been reset, so the
/// unretained pointer curl holds (CURLOPT_WRITEDATA / CURLOPT_HEADERDATA) never dangles and
/// there is no retain to balance.
final class HTTPTransfer {
    let tag: Int
    /// True for transfers started by `performAll`, whose results never go through `poll`.
    let belongsToPerformAll: Bool
    let easy: CurlEasyHandle
    let startedAt: ContinuousClock.Instant
    private let headerList = CurlHeaderList()
    private var responseHeaders: [HTTPHeader] = []
    private var responseBody: [UInt8] = []
    /// Header bytes taken in so far, for the limit.
    private var headerBytes = 0
    /// `HTTPRequest.maximumResponseBytes` of the request in hand.
    private(set) var maximumResponseBytes = 0
    /// Set when the callbacks cut the transfer off at the limit.
    private(set) var exceededLimit = false
    /// Set when it was the body that reached the limit (the headers were complete).
    private(set) var bodyCut = false
    /// `HTTPRequest.acceptsTruncatedBody` of the request in hand.
    private(set) var acceptsTruncatedBody = false
    /// `HTTPRequest.destinationRules` of the request in hand.
    private var destinationRules: NetworkDestinationRules?
    /// Why the open-socket callback refused an address, if it did.
    private(set) var refusedDestination: String?

    init(tag: Int, belongsToPerformAll: Bool, easy: CurlEasyHandle) {
        self.tag = tag
        self.belongsToPerformAll = belongsToPerformAll
        self.easy = easy
        startedAt = ContinuousClock.now
    }

    /// Validates `request` and sets every option of the easy handle for it.
    func configure(for request: HTTPRequest) throws(HTTPClientError) {
        try Self.validate(request)
        maximumResponseBytes = request.maximumResponseBytes
        acceptsTruncatedBody = request.acceptsTruncatedBody

        try easy.set(CURLOPT_URL, request.url)
        // Only web protocols: a URL from configuration must never read file:// or speak
        // another protocol. Redirects are not followed, and could not leave http(s) either.
        try easy.set(CURLOPT_PROTOCOLS_STR, request.requireHTTPS ? "https" : "http,https")
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)
        // Without this curl uses SIGALRM for DNS timeouts, which is unsafe with threads.
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)

        switch request.method {
        case "GET" where request.body.isEmpty:
            try easy.set(CURLOPT_HTTPGET, 1)
        case "HEAD" where request.body.isEmpty:
            try easy.set(CURLOPT_NOBODY, 1)
        default:
            // The body makes curl send a POST with Content-Length; other methods keep that
            // body and only replace the method name.
            try easy.setCopiedBody(request.body)
            if request.method != "POST" {
                try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
            }
        }

        for header in request.headers {
            // "Name:" would tell curl to remove the header; "Name;" sends it empty.
            try headerList.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // curl sends "Expect: 100-continue" for larger bodies and then waits a round trip
        // (or a second) for the server's go-ahead; an empty Expect header turns that off.
        if !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            try headerList.append("Expect:")
        }
        try easy.setHeaders(headerList)

        let context = Unmanaged.passUnretained(self).toOpaque()
        try easy.setWriteFunction { data, size, count, context in
            let byteCount = size * count
            guard let data, let context else { return 0 }  // 0 for a non-empty chunk aborts the transfer
            let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
            guard transfer.responseBody.count + byteCount <= transfer.maximumResponseBytes else {
                transfer.exceededLimit = true
                transfer.bodyCut = true
                transfer.responseBody.append(
                    contentsOf: UnsafeRawBufferPointer(start: data, count: transfer.maximumResponseBytes - transfer.responseBody.count))
                return 0
            }
            transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: byteCount))
            return byteCount
        }
        try easy.set(CURLOPT_WRITEDATA, context)
        try easy.setHeaderFunction { data, size, count, context in
            let byteCount = size * count
            guard let data, let context else { return 0 }  // 0 for a non-empty chunk aborts the transfer
            let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.headerBytes += byteCount
            guard transfer.headerBytes <= transfer.maximumResponseBytes else {
                transfer.exceededLimit = true
                return 0
            }
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: byteCount))
            return byteCount
        }
        try easy.set(CURLOPT_HEADERDATA, context)

        destinationRules = request.destinationRules
        if request.destinationRules != nil {
            // A proxy would be the address connected to, and would reach the target for us.
            try easy.set(CURLOPT_NOPROXY, "*")
            try easy.setOpenSocketFunction { context, _, address in
                guard let context, let address else { return CURL_SOCKET_BAD }
                let transfer = Unmanaged<HTTPTransfer>.fromOpaque(context).takeUnretainedValue()
                var bytes = [UInt8](repeating: 0, count: 16)
                let count = Int(texting_curl_sockaddr_address(address, &bytes))
                let rules = transfer.destinationRules ?? NetworkDestinationRules()
                let refusal =
                    switch count {
                    case 4: rules.refusal(ipv4: Array(bytes.prefix(4)))
                    case 16: rules.refusal(ipv6: bytes)
                    default: "an address that is neither IPv4 nor IPv6"
                    }
                if let refusal {
                    transfer.refusedDestination = refusal
                    return CURL_SOCKET_BAD
                }
                return texting_curl_open_socket(address)
            }
            try easy.set(CURLOPT_OPENSOCKETDATA, context)
        }
    }

    /// The response assembled by the callbacks, once curl reported the transfer done.
    func finishedResponse() throws(HTTPClientError) -> HTTPResponse {
        let status = try easy.info(CURLINFO_RESPONSE_CODE)
        return HTTPResponse(status: status, headers: responseHeaders, body: responseBody)
    }

    /// Parses one header line as curl delivers it (with its CRLF).
    private func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Strip CR LF as bytes: in a String "\r\n" is one Character, equal to neither.
        var byteCount = bytes.count
        while byteCount > 0, bytes[byteCount - 1] == 0x0D || bytes[byteCount - 1] == 0x0A { byteCount -= 1 }
        let line = Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<byteCount]), as: UTF8.self))
        if line.hasPrefix("HTTP/") {
            // A status line starts a new response (after a 1xx): only the final one counts.
            responseHeaders.removeAll()
            return
        }
        guard let first = line.first else { return }
        if first == " " || first == "\t" {
            // Obsolete line folding: the line continues the previous field's value.
            if let previous = responseHeaders.popLast() {
                responseHeaders.append(HTTPHeader(name: previous.name, value: previous.value + " " + Self.trimmed(line)))
            }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = Self.trimmed(line[..<colon]).lowercased()
        let value = Self.trimmed(line[line.index(after: colon)...])
        responseHeaders.append(HTTPHeader(name: name, value: value))
    }

    private static func trimmed(_ text: Substring) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = text.firstIndex(where: { !isBlank($0) }),
            let end = text.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(text[start...end])
    }

    /// Rejects what curl would accept but should not send: header injection through CR/LF,
    /// strings that a NUL would silently cut short, and transfers without a time limit.
    private static func validate(_ request: HTTPRequest) throws(HTTPClientError) {
        guard request.timeoutMilliseconds > 0, request.connectTimeoutMilliseconds > 0 else {
            throw .invalidArgument(
                "timeouts must be positive, got \(request.timeoutMilliseconds) ms total and \(request.connectTimeoutMilliseconds) ms connect")
        }
        guard request.maximumResponseBytes > 0 else {
            throw .invalidArgument("maximumResponseBytes must be positive, got \(request.maximumResponseBytes)")
        }
        guard !request.url.utf8.contains(0) else { throw .invalidArgument("URL contains a NUL byte") }
        guard HTTPToken.isToken(request.method.utf8) else { throw .invalidArgument("method \(String(reflecting: request.method)) is not an HTTP token") }
        for header in request.headers {
            guard HTTPToken.isToken(header.name.utf8) else {
                throw .invalidArgument("header name \(String(reflecting: header.name)) is not an HTTP token")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidArgument("value of header \(header.name) contains CR, LF or NUL")
            }
        }
    }
}
