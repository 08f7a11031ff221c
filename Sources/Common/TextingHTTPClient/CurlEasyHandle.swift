import CCurl

/// Sole owner of one curl easy handle (`CURL *`) and its error buffer. `HTTPClient` keeps
/// idle ones in a pool and resets them between transfers; `deinit` frees the handle once.
final class CurlEasyHandle {
    /// The C handle. Valid for the lifetime of this object; never freed elsewhere.
    let pointer: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER target. curl writes a specific message here on failure ("Failed
    /// to connect to 127.0.0.1 port 9 ...") that is better than curl_easy_strerror's text.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Creates a handle; `nil` if curl is out of memory. The corresponding C function is
    /// `curl_easy_init`.
    init?() {
        guard let pointer = curl_easy_init() else { return nil }
        self.pointer = pointer
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        attachErrorBuffer()
    }

    deinit {
        curl_easy_cleanup(pointer)
        errorBuffer.deallocate()
    }

    /// Restores every option to its default, keeping live connections and caches; that
    /// also drops curl's pointers into the previous transfer's context and header list.
    /// The corresponding C function is `curl_easy_reset`.
    func reset() {
        curl_easy_reset(pointer)
        attachErrorBuffer()
    }

    /// The message curl left for the last failure, or `nil` if it left none.
    var lastErrorMessage: String? {
        errorBuffer[0] == 0 ? nil : String(cString: errorBuffer)
    }

    /// Sets an integer option. The corresponding C function is `curl_easy_setopt`.
    func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_long(pointer, option, value))
    }

    /// Sets a string option; curl copies the string. The corresponding C function is
    /// `curl_easy_setopt`.
    func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_string(pointer, option, value))
    }

    /// Sets a pointer option (callback context). The caller keeps the pointee alive until the
    /// handle is reset. The corresponding C function is `curl_easy_setopt`.
    func set(_ option: CURLoption, _ value: UnsafeMutableRawPointer) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_pointer(pointer, option, value))
    }

    /// Sets CURLOPT_HTTPHEADER; the list must stay alive until the handle is reset.
    /// The corresponding C function is `curl_easy_setopt`.
    func setHeaders(_ list: CurlHeaderList) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_slist(pointer, CURLOPT_HTTPHEADER, list.head))
    }

    /// Sets the request body, which curl copies, with its exact size so that binary and empty
    /// bodies work. The corresponding C function is `curl_easy_setopt` with
    /// CURLOPT_POSTFIELDSIZE_LARGE then CURLOPT_COPYPOSTFIELDS.
    func setCopiedBody(_ body: [UInt8]) throws(HTTPClientError) {
        let code = body.withUnsafeBytes { bytes in
            texting_curl_easy_setopt_copy_postfields(pointer, bytes.baseAddress, bytes.count)
        }
        try check(code)
    }

    /// Sets the function curl calls with each chunk of response body.
    /// The corresponding C function is `curl_easy_setopt` with CURLOPT_WRITEFUNCTION.
    func setWriteFunction(_ function: CurlDataCallback) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_write_function(pointer, function))
    }

    /// Sets the function curl calls with each response header line.
    /// The corresponding C function is `curl_easy_setopt` with CURLOPT_HEADERFUNCTION.
    func setHeaderFunction(_ function: CurlDataCallback) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_header_function(pointer, function))
    }

    /// Sets the function curl calls to open each connection's socket, which may refuse the
    /// address. The corresponding C function is `curl_easy_setopt` with CURLOPT_OPENSOCKETFUNCTION.
    func setOpenSocketFunction(_ function: CurlOpenSocketCallback) throws(HTTPClientError) {
        try check(texting_curl_easy_setopt_opensocket_function(pointer, function))
    }

    /// Reads an integer fact about the last transfer, e.g. CURLINFO_RESPONSE_CODE.
    /// The corresponding C function is `curl_easy_getinfo`.
    func info(_ item: CURLINFO) throws(HTTPClientError) -> Int {
        var value = 0
        try check(texting_curl_easy_getinfo_long(pointer, item, &value))
        return value
    }

    private func attachErrorBuffer() {
        errorBuffer[0] = 0
        // Cannot fail for a non-NULL buffer; a failure would only cost message detail.
        _ = texting_curl_easy_setopt_pointer(pointer, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    private func check(_ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw HTTPClientError(curlCode: code, detail: lastErrorMessage) }
    }
}

/// The C signature curl uses for both body and header callbacks:
/// (data, size, count, context) -> bytes consumed.
typealias CurlDataCallback =
    @convention(c) (
        UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?
    ) -> Int

/// The C signature of curl's open-socket callback: (context, purpose, address) -> socket or
/// CURL_SOCKET_BAD to refuse.
typealias CurlOpenSocketCallback =
    @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t
