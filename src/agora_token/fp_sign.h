/* fp_sign: the signatures of 006 and 007 tokens, and the sealing of a packed 007 content.
 *
 * Contract. Each function writes a 32-byte HMAC-SHA256 and returns FP_OK or fp_hmac's failure
 * (FP_ENOMEM, FP_ECRYPTO); fp_seal_007 also returns fp_deflate's. The certificate is given as its
 * UTF-8 bytes. On the SHA-256 path the keys derived from a certificate (for 006, with the App ID
 * and channel signed) are cached in the calling thread's state (fp_state.h), so repeated signing
 * with one certificate skips work; results never depend on the cache. Reentrant; may run without
 * the GIL.
 *   fp_sign_007   docs/format.md, "The signing chain": k1 = HMAC(u32le(issue_ts), cert); key = HMAC(u32le(salt), k1);
 *                 signature = HMAC(key, info).
 *   fp_sign_006   docs/format.md, "006 layout": HMAC(cert, app_id || channel || uid || message).
 *   fp_seal_007   buf holds 34 free bytes then the signing info (len bytes in all): the 34 bytes
 *                 become string(signature), then the whole is deflated into out (cap bytes, at
 *                 least fp_deflate_bound(len)).
 */
#ifndef AGORA_TOKEN_FP_SIGN_H
#define AGORA_TOKEN_FP_SIGN_H

#include "fp_common.h"

fp_status fp_sign_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                      const unsigned char *info, size_t infolen, unsigned char out[32]);
fp_status fp_sign_006(const char *cert, size_t certlen, const char *app, size_t applen,
                      const char *channel, size_t chlen, const char *uid, size_t uidlen,
                      const unsigned char *msg, size_t msglen, unsigned char out[32]);
fp_status fp_seal_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                      unsigned char *buf, size_t len, unsigned char *out, size_t cap, size_t *outlen);

#endif
