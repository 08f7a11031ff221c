#ifndef TEXTING_CCURL_SHIM_H
#define TEXTING_CCURL_SHIM_H
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

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
/* The open-socket callback that checks an address before curl connects to it
   (CURLOPT_OPENSOCKETFUNCTION), and the pieces of `struct curl_sockaddr` it reads. */
static inline CURLcode texting_curl_easy_setopt_opensocket_function(CURL *h, curl_socket_t (*f)(void *, curlsocktype, struct curl_sockaddr *)) {
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, f);
}
/* Copies the IPv4 (4 bytes) or IPv6 (16 bytes) address into `out` (16 bytes) and returns how
   many bytes it copied; 0 for any other family. */
static inline int texting_curl_sockaddr_address(const struct curl_sockaddr *a, unsigned char *out) {
    if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
        memcpy(out, &((const struct sockaddr_in *)&a->addr)->sin_addr, 4);
        return 4;
    }
    if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
        memcpy(out, &((const struct sockaddr_in6 *)&a->addr)->sin6_addr, 16);
        return 16;
    }
    return 0;
}
/* What curl's own open-socket does: a socket of the address's family, type and protocol. */
static inline curl_socket_t texting_curl_open_socket(const struct curl_sockaddr *a) {
    return socket(a->family, a->socktype, a->protocol);
}
#endif
