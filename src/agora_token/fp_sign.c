/* fp_sign.c: 006/007 signatures over fp_hmac, with per-thread key caches (see fp_sign.h). */
#include "fp_sign.h"
#include "fp_codec.h"
#include "fp_hmac.h"
#include "fp_state.h"

#include <string.h>

#include <openssl/crypto.h>

static void fp_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

/* The last two HMACs of 007 signing, from k1 on. */
static fp_status fp_sign_007_from_k1(const unsigned char k1[32], uint32_t salt, const unsigned char *info,
                                     size_t infolen, unsigned char out[32]) {
    unsigned char le[4], key[32];
    fp_status st;
    fp_le32(le, salt);
    st = fp_hmac1(le, 4, k1, 32, key);
    if (st == FP_OK) st = fp_hmac1(key, 32, info, infolen, out);
    OPENSSL_cleanse(key, sizeof key);
    return st;
}

static fp_status fp_sign_007_plain(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                                   const unsigned char *info, size_t infolen, unsigned char out[32]) {
    unsigned char le[4], k1[32];
    fp_status st;
    fp_le32(le, issue_ts);
    st = fp_hmac1(le, 4, (const unsigned char *)cert, certlen, k1);
    if (st == FP_OK) st = fp_sign_007_from_k1(k1, salt, info, infolen, out);
    OPENSSL_cleanse(k1, sizeof k1);
    return st;
}

static fp_status fp_sign_006_plain(const char *cert, size_t certlen, const char *app, size_t applen,
                                   const char *channel, size_t chlen, const char *uid, size_t uidlen,
                                   const unsigned char *msg, size_t msglen, unsigned char out[32]) {
    fp_hmac h;
    fp_status st = fp_hmac_init(&h, (const unsigned char *)cert, certlen), fin;
    if (st != FP_OK) return st;
    st = fp_hmac_update(&h, app, applen);
    if (st == FP_OK) st = fp_hmac_update(&h, channel, chlen);
    if (st == FP_OK) st = fp_hmac_update(&h, uid, uidlen);
    if (st == FP_OK) st = fp_hmac_update(&h, msg, msglen);
    fin = fp_hmac_final(&h, out);  /* always: it frees the context */
    return st != FP_OK ? st : fin;
}

fp_status fp_sign_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                      const unsigned char *info, size_t infolen, unsigned char out[32]) {
#ifdef FP_HMAC_COPYABLE
    fp_tls *t = fp_tls_get();
    if (t != NULL && certlen <= sizeof t->keys.k1_cert) {
        fp_keys *c = &t->keys;
        if (!c->k1_ready || c->k1_ts != issue_ts || c->k1_certlen != certlen
                || memcmp(c->k1_cert, cert, certlen) != 0) {
            unsigned char le[4];
            fp_status st;
            c->k1_ready = 0;
            fp_le32(le, issue_ts);
            if ((st = fp_hmac1(le, 4, (const unsigned char *)cert, certlen, c->k1)) != FP_OK) return st;
            memcpy(c->k1_cert, cert, certlen);
            c->k1_certlen = certlen;
            c->k1_ts = issue_ts;
            c->k1_ready = 1;
        }
        return fp_sign_007_from_k1(c->k1, salt, info, infolen, out);
    }
#endif
    return fp_sign_007_plain(cert, certlen, issue_ts, salt, info, infolen, out);
}

fp_status fp_sign_006(const char *cert, size_t certlen, const char *app, size_t applen,
                      const char *channel, size_t chlen, const char *uid, size_t uidlen,
                      const unsigned char *msg, size_t msglen, unsigned char out[32]) {
#ifdef FP_HMAC_COPYABLE
    fp_tls *t = fp_tls_get();
    if (t != NULL && certlen <= sizeof t->keys.pad_cert) {
        fp_keys *c = &t->keys;
        fp_hmac h;
        size_t prefixlen = applen + chlen;
        if (!c->pad_ready || c->pad_certlen != certlen || memcmp(c->pad_cert, cert, certlen) != 0) {
            fp_status st;
            c->pad_ready = 0;
            c->prefix_ready = 0;
            if ((st = fp_hmac_init(&c->pad, (const unsigned char *)cert, certlen)) != FP_OK) return st;
            memcpy(c->pad_cert, cert, certlen);
            c->pad_certlen = certlen;
            c->pad_ready = 1;
        }
        if (c->prefix_ready && c->prefix_len == prefixlen && memcmp(c->prefix, app, applen) == 0
                && memcmp(c->prefix + applen, channel, chlen) == 0) {
            h = c->prefixed;  /* the keyed state, copied: SHA256_CTX is plain data */
        } else {
            h = c->pad;
            fp_hmac_update(&h, app, applen);  /* cannot fail on this path */
            fp_hmac_update(&h, channel, chlen);
            c->prefix_ready = 0;
            if (prefixlen <= sizeof c->prefix) {
                c->prefixed = h;
                memcpy(c->prefix, app, applen);
                memcpy(c->prefix + applen, channel, chlen);
                c->prefix_len = prefixlen;
                c->prefix_ready = 1;
            }
        }
        fp_hmac_update(&h, uid, uidlen);
        fp_hmac_update(&h, msg, msglen);
        return fp_hmac_final(&h, out);
    }
#endif
    return fp_sign_006_plain(cert, certlen, app, applen, channel, chlen, uid, uidlen, msg, msglen, out);
}

fp_status fp_seal_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                      unsigned char *buf, size_t len, unsigned char *out, size_t cap, size_t *outlen) {
    fp_status st;
    buf[0] = 32;
    buf[1] = 0;
    st = fp_sign_007(cert, certlen, issue_ts, salt, buf + 34, len - 34, buf + 2);
    return st != FP_OK ? st : fp_deflate(buf, len, out, cap, outlen);
}
