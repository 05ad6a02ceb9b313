/* fp_common: what every C file of the token kernel shares — its status codes and its limits.
 *
 * Contract. Every kernel function that can fail returns an fp_status: FP_OK (0) on success, else
 * the one reason it failed; _fastpack.pyx turns a status into an exception in one place
 * (_raise_status). The limits are the C copies of agora_token._limits; the module checks at
 * import that they agree. Nothing here needs Python.h, so each .c file compiles on its own
 * (tools/c-warnings.sh does exactly that, with -Wall -Wextra -Werror).
 */
#ifndef AGORA_TOKEN_FP_COMMON_H
#define AGORA_TOKEN_FP_COMMON_H

/* SHA256_Init & co. are deprecated in OpenSSL 3.0 but still the fastest way to HMAC: this must
   come before the first OpenSSL header of each file, which is why every file includes this first. */
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED 1
#endif

#include <stddef.h>
#include <stdint.h>

#define FP_MAX_PAYLOAD ((size_t)1 << 20)  /* a parsed 007 payload inflates to at most this */
#define FP_SALT_MAX 99999999u             /* salts are drawn from 1..FP_SALT_MAX */
#define FP_B64LEN(n) (((n) / 3 + ((n) % 3 != 0)) * 4)

typedef enum {
    FP_OK = 0,
    FP_ENOMEM,       /* an allocation failed (malloc, zlib's or OpenSSL's) */
    FP_ECRYPTO,      /* libcrypto refused to compute a digest */
    FP_EZLIB,        /* zlib itself failed (to set up, reset or deflate), not the token */
    FP_ERANDOM,      /* the operating system gave no random bytes */
    FP_EBASE64,      /* a token body is not standard padded base64 */
    FP_EZSTREAM,     /* a token body is not a valid zlib stream */
    FP_ETOOBIG,      /* a token body inflates past FP_MAX_PAYLOAD */
    FP_ETRUNCATED,   /* a token body is a truncated zlib stream */
    FP_ETRAILING     /* a token body has data after its zlib stream */
} fp_status;

#endif
