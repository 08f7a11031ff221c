#ifndef TEXTING_CCRYPTO_SHIM_H
#define TEXTING_CCRYPTO_SHIM_H
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* One-shot HMAC with `md` (SHA-256, fetched once by the caller, as for texting_sha256 below);
   `out` must hold 32 bytes. Returns 1 on success. */
static inline int texting_hmac_sha256(const EVP_MD *md, const void *key, int key_len, const unsigned char *data, size_t data_len, unsigned char *out) {
    unsigned int out_len = 0;
    return md != NULL && HMAC(md, key, key_len, data, data_len, out, &out_len) != NULL && out_len == 32;
}
/* SHA-256 with `md`, fetched once by the caller (EVP_MD_fetch): EVP_Digest with EVP_sha256()
   looks the algorithm up in the provider's tables on every call, under a lock, and every API
   request hashes its key. `out` must hold 32 bytes. Returns 1 on success. */
static inline int texting_sha256(const EVP_MD *md, const unsigned char *data, size_t data_len, unsigned char *out) {
    unsigned int out_len = 0;
    return md != NULL && EVP_Digest(data, data_len, out, &out_len, md, NULL) == 1 && out_len == 32;
}
#endif
