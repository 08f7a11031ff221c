import CCurl

/// Why a transfer produced no HTTP response. The cases are sorted by what a caller can do:
/// retry later, fix the request, or log and investigate.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The transfer (or its connect phase) ran past its limit. The server may still have
    /// acted on the request.
    case timedOut
    /// No usable connection: refused, host name not resolved, TLS handshake failed, or the
    /// connection was reset or closed before a complete response. A reset can come after the
    /// request was sent, so the server may have acted on it.
    case connectionFailed(String)
    /// The response's headers or body grew past `HTTPRequest.maximumResponseBytes`; the
    /// transfer was cut off there. The server may have acted on the request.
    case responseTooLarge(limit: Int)
    /// The request or client setting can never work (malformed URL, scheme other than http or
    /// https, CR/LF in a header, non-positive timeout or limit). Retrying cannot help.
    case invalidArgument(String)
    /// Any other failure; `code` is curl's `CURLcode` (or `CURLMcode` for the multi handle).
    case other(code: Int, message: String)
    /// `HTTPRequest.destinationRules` refused every address the host resolved to; nothing was
    /// sent. The reason names the last address refused.
    case destinationRefused(String)

    /// One line for logs, naming the failure and curl's detail.
    public var description: String {
        switch self {
        case .timedOut: "HTTP transfer timed out"
        case .connectionFailed(let message): "HTTP connection failed: \(message)"
        case .responseTooLarge(let limit): "HTTP response larger than \(limit) bytes; cut off"
        case .invalidArgument(let message): "invalid HTTP request: \(message)"
        case .other(let code, let message): "HTTP transfer failed (curl code \(code)): \(message)"
        case .destinationRefused(let reason): "destination refused: \(reason)"
        }
    }

    /// The one place a `CURLcode` becomes an error. `detail` is curl's error buffer text,
    /// which names host and port; without it, curl's generic text for the code is used.
    init(curlCode: CURLcode, detail: String? = nil) {
        let message = (detail?.isEmpty == false ? detail : nil) ?? String(cString: curl_easy_strerror(curlCode))
        switch curlCode {
        case CURLE_OPERATION_TIMEDOUT:
            self = .timedOut
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
            CURLE_SSL_CONNECT_ERROR, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
            CURLE_PARTIAL_FILE:
            self = .connectionFailed(message)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT:
            self = .invalidArgument(message)
        default:
            self = .other(code: Int(curlCode.rawValue), message: message)
        }
    }

    /// A multi-handle failure (out of memory, internal error); the codes do not overlap with
    /// transfer problems a caller could act on, so they are all `.other`.
    init(multiCode: CURLMcode) {
        self = .other(code: Int(multiCode.rawValue), message: String(cString: curl_multi_strerror(multiCode)))
    }
}
