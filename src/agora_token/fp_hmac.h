/* fp_hmac: HMAC-SHA256 (RFC 2104) over OpenSSL's SHA-256.
 *
 * Contract. fp_hmac_init keys a context (keys longer than 64 bytes are hashed first, as RFC 2104
 * says); fp_hmac_update adds message bytes; fp_hmac_final writes the 32-byte MAC and wipes or frees
 * the context, which must then be keyed again before reuse. A context that fp_hmac_init failed on
 * holds nothing to free. Every call returns FP_OK, FP_ENOMEM (EVP context allocation) or FP_ECRYPTO
 * (a libcrypto digest call failed; its reason stays in OpenSSL's error queue for the caller to clear).
 * No function allocates on the SHA-256 path, and none keeps state between calls: all are reentrant.
 *
 * Two implementations, chosen at compile time:
 *   sha256 (default)  SHA256_Init/Update/Final, plain data: a keyed context may be copied by value
 *                     (fp_sign.c caches the keyed pads of a certificate that way). FP_HMAC_COPYABLE.
 *   evp               EVP digests, where libcrypto was built without the deprecated low-level API
 *                     (OPENSSL_NO_DEPRECATED_3_0) or when FP_FORCE_EVP is defined (tools/evp.sh
 *                     builds and tests this one). Contexts are heap objects and not copyable.
 * fp_hmac_path() names the one compiled in: "sha256" or "evp".
 */
#ifndef AGORA_TOKEN_FP_HMAC_H
#define AGORA_TOKEN_FP_HMAC_H

#include "fp_common.h"

#include <openssl/opensslconf.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#if defined(OPENSSL_NO_DEPRECATED_3_0) || defined(FP_FORCE_EVP)
#define FP_EVP 1
typedef struct { EVP_MD_CTX *inner, *outer; } fp_hmac;
#else
#define FP_HMAC_COPYABLE 1
typedef struct { SHA256_CTX inner, outer; } fp_hmac;
#endif

fp_status fp_hmac_init(fp_hmac *h, const unsigned char *key, size_t keylen);
fp_status fp_hmac_update(fp_hmac *h, const void *data, size_t len);
fp_status fp_hmac_final(fp_hmac *h, unsigned char out[32]);

/* HMAC(key, msg) in one call; out may alias key or msg. */
fp_status fp_hmac1(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t len,
                   unsigned char out[32]);

const char *fp_hmac_path(void);

#endif
