/* fp_state: each thread's reusable kernel state, and salts.
 *
 * Contract. fp_tls_get() returns the calling thread's state, created zeroed on first use and freed
 * when the thread exits; NULL when it cannot be had (no memory, no thread-local storage), and the
 * callers then fall back to call-local z_streams and unbuffered randomness: same results, slower.
 * The state is touched only by its own thread, so none of it needs a lock; it may be used with the
 * GIL released. fp_random_salt() draws a salt uniform in 1..FP_SALT_MAX from the operating
 * system's CSPRNG (FP_OK, or FP_ERANDOM); a child process of fork() never reuses its parent's
 * buffered randomness.
 *
 * Where the state lives:
 *   POSIX    a pthread key whose destructor frees it at thread exit; pthread_atfork bumps a
 *            generation in the child so buffered salt bytes of the parent are thrown away.
 *   Windows  a fiber-local storage slot (FlsAlloc) whose callback frees it when the thread (or
 *            fiber) ends; there is no fork. The module is never unloaded (CPython does not unload
 *            extension modules), so the callback outlives every slot value. Before this slot,
 *            Windows had no state at all: every token paid a deflateInit2 and a RAND_bytes call.
 *   FP_NO_THREAD_STATE, or any other platform: none (fp_tls_get() is always NULL): every call pays
 *            its own deflateInit2/inflateInit2 and a 4-byte draw of randomness per salt.
 */
#ifndef AGORA_TOKEN_FP_STATE_H
#define AGORA_TOKEN_FP_STATE_H

#include "fp_common.h"
#include "fp_hmac.h"

#include <zlib.h>

#ifdef FP_HMAC_COPYABLE
/* Keys derived from the certificate, kept per thread because a server signs with one certificate
   over and over: 007's first HMAC depends only on (issue_ts, certificate), which repeats for every
   token of the same second; 006's HMAC pads depend only on the certificate, and 006 signs the App
   ID and the channel before the user, so the pads with those two absorbed serve every user of the
   last channel signed (a 32-character App ID and channel fill a whole SHA-256 block: one block less
   per token). Certificates and prefixes longer than the buffers are never cached. (The EVP contexts
   are not plain data: no cache there.) */
typedef struct {
    int k1_ready;
    uint32_t k1_ts;
    size_t k1_certlen;
    unsigned char k1_cert[64];
    unsigned char k1[32];
    int pad_ready;
    size_t pad_certlen;
    unsigned char pad_cert[64];
    fp_hmac pad;
    int prefix_ready;               /* valid only with pad_ready: keyed by the same certificate */
    size_t prefix_len;
    unsigned char prefix[128];      /* app_id || channel_name, as signed */
    fp_hmac prefixed;               /* pad with the prefix absorbed */
} fp_keys;
#endif

typedef struct {
    z_stream def;           /* valid once def_ready: deflateReset between uses */
    z_stream inf;           /* valid once inf_ready: inflateReset between uses */
    int def_ready;
    int inf_ready;
    unsigned long salt_gen; /* the fork generation salt[] was filled in */
    size_t salt_pos;        /* salt[salt_pos..] is unused randomness; used bytes are zeroed */
    unsigned char salt[512];
#ifdef FP_HMAC_COPYABLE
    fp_keys keys;
#endif
} fp_tls;

fp_tls *fp_tls_get(void);
fp_status fp_random_salt(uint32_t *out);

#endif
