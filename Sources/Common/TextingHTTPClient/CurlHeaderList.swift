import CCurl

/// Sole owner of one `curl_slist` of request header lines. curl does not copy the list, so it
/// must outlive its transfer: the owning `HTTPTransfer` keeps it until the easy handle has
/// left the multi handle and been reset, and `deinit` frees it exactly once.
final class CurlHeaderList {
    /// The first node, or `nil` for an empty list (curl accepts that as "no extra headers").
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init() {}

    /// Appends one raw header line such as `Expect:`. The corresponding C function is
    /// `curl_slist_append`, which copies the string.
    func append(_ line: String) throws(HTTPClientError) {
        guard let newHead = curl_slist_append(head, line) else {
            throw HTTPClientError(curlCode: CURLE_OUT_OF_MEMORY)
        }
        head = newHead
    }

    deinit {
        curl_slist_free_all(head)
    }
}
