#ifndef TEXTING_CCURL_SHIM_H
#define TEXTING_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
   call: these typed, non-variadic wrappers are the only way the Swift side reaches them. */
static inline CURLcode texting_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode texting_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode texting_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode texting_curl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode texting_curl_easy_setopt_write_function(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode texting_curl_easy_setopt_header_function(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
static inline CURLcode texting_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode texting_curl_easy_getinfo_pointer(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode texting_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* CURLOPT_COPYPOSTFIELDS reads CURLOPT_POSTFIELDSIZE_LARGE at the moment it copies, so both
   are set here in the required order. A NULL pointer would switch curl to reading the body
   from its read callback (stdin by default), so an empty body gets a valid one-byte address. */
static inline CURLcode texting_curl_easy_setopt_copy_postfields(CURL *h, const void *data, size_t size) {
    static const char empty_body = 0;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, data ? (const char *)data : &empty_body);
}
#endif
