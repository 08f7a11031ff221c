import CCurl

/// Runs `curl_global_init` once per process, before the first handle is created.
/// curl_global_init is not thread-safe in every libcurl build, and curl_multi_init or
/// curl_easy_init would call it implicitly (and unsafely) if it had not run yet.
enum CurlGlobalInitialization {
    /// Swift initializes a static `let` exactly once, under a lock, on first use: that is the
    /// "once" guarantee, even when several threads create their first client together.
    /// It is never undone (curl_global_cleanup), because handles may live until exit.
    private static let resultCode: CURLcode.RawValue = curl_global_init(Int(CURL_GLOBAL_DEFAULT)).rawValue

    /// Initializes libcurl if this is the first call; throws if that initialization failed.
    /// The corresponding C function is `curl_global_init`.
    static func ensureInitialized() throws(HTTPClientError) {
        let code = CURLcode(rawValue: resultCode)
        guard code == CURLE_OK else { throw HTTPClientError(curlCode: code) }
    }
}
