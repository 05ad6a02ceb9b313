# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: cdivision=True, freethreading_compatible=True, autotestdict=False
"""The token kernel in C: packs, signs, deflates and base64-encodes whole tokens in one call.

It mirrors ``_pure`` byte for byte (same names, signatures, results and exception types); see that
module's docstring for the data shapes. zlib deflates and inflates, OpenSSL's libcrypto supplies
SHA-256 (HMAC is built on it) and the random bytes of salts.

Python objects are read while the GIL is held: every string is copied into a C buffer as it is
packed, so no pointer into a Python object outlives the conversion except those of the call's own
``str`` arguments, which the caller keeps alive. Signing, deflating and base64 then run without the
GIL. Each thread keeps its own z_streams and salt randomness (a pthread key whose destructor frees
them); a fork discards the buffered randomness in the child.
"""

from libc.stdint cimport uint32_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromUnsignedLong
from cpython.number cimport PyNumber_Index
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF

import zlib as _zlib

from agora_token import _limits
from agora_token.errors import TokenError

cdef extern from "<time.h>":
    ctypedef long time_t
    time_t time(time_t*) nogil

TOKEN_006_LIFETIME = _limits.TOKEN_006_LIFETIME
cdef uint32_t _TOKEN_006_LIFETIME = TOKEN_006_LIFETIME
cdef Py_ssize_t _MAX_TOKEN_LENGTH = _limits.MAX_TOKEN_LENGTH
cdef str _TOO_LONG = _limits.too_long_message()

cdef extern from "Python.h":
    # Declared here rather than cimported to control the error handling exactly.
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    object PyUnicode_New(Py_ssize_t, Py_UCS4)
    object PyUnicode_DecodeUTF8(const char*, Py_ssize_t, const char*)
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    void* PyUnicode_DATA(object)
    bint PyUnicode_IS_ASCII(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    Py_UCS4 PyUnicode_READ_CHAR(object, Py_ssize_t)
    bint PyUnicode_Check(object)
    bint PyLong_Check(object)
    bint PyLong_CheckExact(object)
    long PyLong_AsLong(object)
    void PyErr_Clear()
    void* PyTuple_GET_ITEM(object, Py_ssize_t)
    bint PyUnicode_CheckExact(object)
    bint PyBool_Check(object)
    bint PyTuple_CheckExact(object)
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1

cdef extern from *:
    r"""
    #ifndef OPENSSL_SUPPRESS_DEPRECATED
    #define OPENSSL_SUPPRESS_DEPRECATED 1  /* SHA256_Init & co.: deprecated in 3.0, still the fastest */
    #endif
    #include <stddef.h>
    #include <stdint.h>
    #include <stdlib.h>
    #include <string.h>
    #include <limits.h>
    #include <zlib.h>
    #include <openssl/opensslv.h>
    #include <openssl/crypto.h>
    #include <openssl/rand.h>
    #include <openssl/evp.h>
    #include <openssl/sha.h>
    #if !defined(_WIN32)
    #include <pthread.h>
    #define FP_HAVE_PTHREAD 1
    #endif

    #define FP_MAX_PAYLOAD ((size_t)1 << 20)
    #define FP_SALT_MAX 99999999u
    #define FP_B64LEN(n) (((n) / 3 + ((n) % 3 != 0)) * 4)

    /* ---------------------------------------------------------------- str readiness (3.9-3.11) */
    static int fp_unicode_ready(PyObject *o) {
    #if PY_VERSION_HEX < 0x030C0000
        return PyUnicode_READY(o);
    #else
        (void)o;
        return 0;
    #endif
    }

    /* ---------------------------------------------------------------- HMAC-SHA256 */
    /* A hand-rolled HMAC (RFC 2104) over OpenSSL's SHA-256: no allocation, no EVP dispatch. Where
       libcrypto was built without the deprecated low-level API, EVP digests stand in. */
    #if defined(OPENSSL_NO_DEPRECATED_3_0) || defined(FP_FORCE_EVP)
    #define FP_EVP 1
    typedef struct { EVP_MD_CTX *inner, *outer; } fp_hmac;
    static void fp_hmac_free(fp_hmac *h) {
        EVP_MD_CTX_free(h->inner);
        EVP_MD_CTX_free(h->outer);
        h->inner = h->outer = NULL;
    }
    static int fp_hmac_init(fp_hmac *h, const unsigned char *key, size_t keylen) {
        unsigned char k[64], pad[64];
        unsigned int dlen = 0;
        int i, ok;
        h->inner = EVP_MD_CTX_new();
        h->outer = EVP_MD_CTX_new();
        if (h->inner == NULL || h->outer == NULL) { fp_hmac_free(h); return -1; }
        memset(k, 0, sizeof k);
        if (keylen > 64) {
            if (!EVP_Digest(key, keylen, k, &dlen, EVP_sha256(), NULL)) { fp_hmac_free(h); return -1; }
        } else if (keylen) {
            memcpy(k, key, keylen);
        }
        for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
        ok = EVP_DigestInit_ex(h->inner, EVP_sha256(), NULL) && EVP_DigestUpdate(h->inner, pad, 64);
        for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
        ok = ok && EVP_DigestInit_ex(h->outer, EVP_sha256(), NULL) && EVP_DigestUpdate(h->outer, pad, 64);
        OPENSSL_cleanse(k, sizeof k);
        OPENSSL_cleanse(pad, sizeof pad);
        if (!ok) { fp_hmac_free(h); return -1; }
        return 0;
    }
    static int fp_hmac_update(fp_hmac *h, const void *data, size_t len) {
        return (len == 0 || EVP_DigestUpdate(h->inner, data, len)) ? 0 : -1;
    }
    static int fp_hmac_final(fp_hmac *h, unsigned char out[32]) {
        unsigned char ih[32];
        unsigned int n = 0;
        int ok = EVP_DigestFinal_ex(h->inner, ih, &n) && EVP_DigestUpdate(h->outer, ih, 32)
                 && EVP_DigestFinal_ex(h->outer, out, &n);
        OPENSSL_cleanse(ih, sizeof ih);
        fp_hmac_free(h);
        return ok ? 0 : -1;
    }
    #else
    typedef struct { SHA256_CTX inner, outer; } fp_hmac;
    static int fp_hmac_init(fp_hmac *h, const unsigned char *key, size_t keylen) {
        unsigned char k[64], pad[64];
        int i;
        memset(k, 0, sizeof k);
        if (keylen > 64) SHA256(key, keylen, k);
        else if (keylen) memcpy(k, key, keylen);
        for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
        SHA256_Init(&h->inner);
        SHA256_Update(&h->inner, pad, 64);
        for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
        SHA256_Init(&h->outer);
        SHA256_Update(&h->outer, pad, 64);
        OPENSSL_cleanse(k, sizeof k);
        OPENSSL_cleanse(pad, sizeof pad);
        return 0;
    }
    static int fp_hmac_update(fp_hmac *h, const void *data, size_t len) {
        if (len) SHA256_Update(&h->inner, data, len);
        return 0;
    }
    static int fp_hmac_final(fp_hmac *h, unsigned char out[32]) {
        unsigned char ih[32];
        SHA256_Final(ih, &h->inner);
        SHA256_Update(&h->outer, ih, 32);
        SHA256_Final(out, &h->outer);
        OPENSSL_cleanse(ih, sizeof ih);
        OPENSSL_cleanse(h, sizeof *h);
        return 0;
    }
    #endif

    static int fp_hmac1(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t len,
                        unsigned char out[32]) {
        fp_hmac h;
        if (fp_hmac_init(&h, key, keylen) < 0) return -1;
        if (fp_hmac_update(&h, msg, len) < 0) { fp_hmac_final(&h, out); return -1; }
        return fp_hmac_final(&h, out);
    }

    static void fp_le32(unsigned char *p, uint32_t v) {
        p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
    }

    /* SPEC 3.1: k1 = HMAC(u32le(issue_ts), cert); key = HMAC(u32le(salt), k1); sig = HMAC(key, info). */
    static int fp_sign_007_plain(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                           const unsigned char *info, size_t infolen, unsigned char out[32]) {
        unsigned char le[4], key[32];
        int rc;
        fp_le32(le, issue_ts);
        rc = fp_hmac1(le, 4, (const unsigned char *)cert, certlen, key);
        fp_le32(le, salt);
        if (rc == 0) rc = fp_hmac1(le, 4, key, 32, key);
        if (rc == 0) rc = fp_hmac1(key, 32, info, infolen, out);
        OPENSSL_cleanse(key, sizeof key);
        return rc;
    }

    /* SPEC 2.1: HMAC(cert, app_id || channel || uid || message). */
    static int fp_sign_006_plain(const char *cert, size_t certlen, const char *app, size_t applen,
                           const char *channel, size_t chlen, const char *uid, size_t uidlen,
                           const unsigned char *msg, size_t msglen, unsigned char out[32]) {
        fp_hmac h;
        int rc;
        if (fp_hmac_init(&h, (const unsigned char *)cert, certlen) < 0) return -1;
        rc = fp_hmac_update(&h, app, applen);
        if (rc == 0) rc = fp_hmac_update(&h, channel, chlen);
        if (rc == 0) rc = fp_hmac_update(&h, uid, uidlen);
        if (rc == 0) rc = fp_hmac_update(&h, msg, msglen);
        if (fp_hmac_final(&h, out) < 0) rc = -1;
        return rc;
    }

    /* ---------------------------------------------------------------- CRC-32 */
    static uint32_t fp_crc32(const char *data, size_t len) {
        uLong crc = crc32(0L, Z_NULL, 0);
        const Bytef *p = (const Bytef *)data;
        while (len > 0) {
            uInt chunk = len > (size_t)UINT_MAX ? UINT_MAX : (uInt)len;
            crc = crc32(crc, p, chunk);
            p += chunk;
            len -= chunk;
        }
        return (uint32_t)crc;
    }

    /* ---------------------------------------------------------------- per-thread state */
    #ifndef FP_EVP
    /* Keys derived from the certificate, kept per thread because a server signs with one
       certificate over and over: 007's first HMAC depends only on (issue_ts, certificate), which
       repeats for every token of the same second; 006's HMAC pads depend only on the certificate. */
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
    } fp_keys;
    #endif

    typedef struct {
        z_stream def;
        z_stream inf;
        int def_ready;
        int inf_ready;
        unsigned long salt_gen;
        size_t salt_pos;
        unsigned char salt[512];
    #ifndef FP_EVP
        fp_keys keys;
    #endif
    } fp_tls;

    #ifdef FP_HAVE_PTHREAD
    static pthread_key_t fp_key;
    static pthread_once_t fp_once = PTHREAD_ONCE_INIT;
    static int fp_key_ok = 0;
    /* Bumped in the child of every fork(): buffered salt randomness of an older generation is
       discarded, so a child never repeats the salts its parent is about to use. */
    static volatile unsigned long fp_fork_gen = 0;

    static void fp_atfork_child(void) { fp_fork_gen++; }

    static void fp_tls_free(void *p) {
        fp_tls *t = (fp_tls *)p;
        if (t == NULL) return;
        if (t->def_ready) deflateEnd(&t->def);
        if (t->inf_ready) inflateEnd(&t->inf);
        OPENSSL_cleanse(t->salt, sizeof t->salt);
    #ifndef FP_EVP
        OPENSSL_cleanse(&t->keys, sizeof t->keys);
    #endif
        free(t);
    }

    static void fp_init_once(void) {
        fp_key_ok = pthread_key_create(&fp_key, fp_tls_free) == 0;
        (void)pthread_atfork(NULL, NULL, fp_atfork_child);
    }

    /* NULL if the state cannot be had (no memory): callers then use call-local streams. */
    static fp_tls *fp_tls_get(void) {
        fp_tls *t;
        if (pthread_once(&fp_once, fp_init_once) != 0 || !fp_key_ok) return NULL;
        t = (fp_tls *)pthread_getspecific(fp_key);
        if (t == NULL) {
            t = (fp_tls *)calloc(1, sizeof *t);
            if (t == NULL) return NULL;
            t->salt_pos = sizeof t->salt;  /* empty */
            t->salt_gen = fp_fork_gen;
            if (pthread_setspecific(fp_key, t) != 0) { free(t); return NULL; }
        }
        return t;
    }
    static unsigned long fp_generation(void) { return fp_fork_gen; }
    #else
    static fp_tls *fp_tls_get(void) { return NULL; }  /* no fork on Windows; streams are per call */
    static unsigned long fp_generation(void) { return 0; }
    #endif

    /* ---------------------------------------------------------------- signing with cached keys */
    static int fp_sign_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                           const unsigned char *info, size_t infolen, unsigned char out[32]) {
    #ifndef FP_EVP
        fp_tls *t = fp_tls_get();
        if (t != NULL && certlen <= sizeof t->keys.k1_cert) {
            fp_keys *c = &t->keys;
            unsigned char le[4], key[32];
            int rc;
            if (!c->k1_ready || c->k1_ts != issue_ts || c->k1_certlen != certlen
                    || memcmp(c->k1_cert, cert, certlen) != 0) {
                c->k1_ready = 0;
                fp_le32(le, issue_ts);
                if (fp_hmac1(le, 4, (const unsigned char *)cert, certlen, c->k1) < 0) return -1;
                memcpy(c->k1_cert, cert, certlen);
                c->k1_certlen = certlen;
                c->k1_ts = issue_ts;
                c->k1_ready = 1;
            }
            fp_le32(le, salt);
            rc = fp_hmac1(le, 4, c->k1, 32, key);
            if (rc == 0) rc = fp_hmac1(key, 32, info, infolen, out);
            OPENSSL_cleanse(key, sizeof key);
            return rc;
        }
    #endif
        return fp_sign_007_plain(cert, certlen, issue_ts, salt, info, infolen, out);
    }

    static int fp_sign_006(const char *cert, size_t certlen, const char *app, size_t applen,
                           const char *channel, size_t chlen, const char *uid, size_t uidlen,
                           const unsigned char *msg, size_t msglen, unsigned char out[32]) {
    #ifndef FP_EVP
        fp_tls *t = fp_tls_get();
        if (t != NULL && certlen <= sizeof t->keys.pad_cert) {
            fp_keys *c = &t->keys;
            fp_hmac h;
            if (!c->pad_ready || c->pad_certlen != certlen || memcmp(c->pad_cert, cert, certlen) != 0) {
                c->pad_ready = 0;
                if (fp_hmac_init(&c->pad, (const unsigned char *)cert, certlen) < 0) return -1;
                memcpy(c->pad_cert, cert, certlen);
                c->pad_certlen = certlen;
                c->pad_ready = 1;
            }
            h = c->pad;  /* the keyed state, copied: SHA256_CTX is plain data */
            fp_hmac_update(&h, app, applen);
            fp_hmac_update(&h, channel, chlen);
            fp_hmac_update(&h, uid, uidlen);
            fp_hmac_update(&h, msg, msglen);
            return fp_hmac_final(&h, out);
        }
    #endif
        return fp_sign_006_plain(cert, certlen, app, applen, channel, chlen, uid, uidlen, msg, msglen, out);
    }

    /* ---------------------------------------------------------------- OS randomness */
    /* Salt bytes come straight from the kernel: OpenSSL's RAND keeps a process-wide lock, and a
       fork() taken while another thread held it (e.g. in that thread's exit cleanup) left the
       child blocked forever in its first RAND_bytes. getrandom/arc4random have no such lock. */
    #if defined(__linux__)
    #include <sys/syscall.h>
    #include <unistd.h>
    #include <errno.h>
    #include <fcntl.h>
    static int fp_urandom_file(unsigned char *buf, size_t n) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        while (n > 0) {
            ssize_t r = read(fd, buf, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) { close(fd); return -1; }
            buf += r; n -= (size_t)r;
        }
        close(fd);
        return 0;
    }
    static int fp_os_random(unsigned char *buf, size_t n) {
        while (n > 0) {
            /* the raw syscall: manylinux2014's glibc 2.17 has no getrandom() wrapper */
            long r = syscall(SYS_getrandom, buf, n, 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                if (errno == ENOSYS) return fp_urandom_file(buf, n);
                return -1;
            }
            buf += r; n -= (size_t)r;
        }
        return 0;
    }
    #elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    static int fp_os_random(unsigned char *buf, size_t n) { arc4random_buf(buf, n); return 0; }
    #else  /* Windows: no fork, so OpenSSL's generator is safe */
    static int fp_os_random(unsigned char *buf, size_t n) { return RAND_bytes(buf, (int)n) == 1 ? 0 : -1; }
    #endif

    /* ---------------------------------------------------------------- salts */
    /* Uniform in 1..99999999: 32-bit draws below the largest multiple of 99999999 (no modulo bias). */
    static int fp_random_salt(uint32_t *out) {
        const uint32_t limit = (uint32_t)(((uint64_t)1 << 32) / FP_SALT_MAX * FP_SALT_MAX);
        fp_tls *t = fp_tls_get();
        for (;;) {
            uint32_t v;
            if (t != NULL) {
                unsigned long gen = fp_generation();
                if (t->salt_gen != gen || t->salt_pos + 4 > sizeof t->salt) {
                    if (fp_os_random(t->salt, sizeof t->salt) != 0) return -1;
                    t->salt_pos = 0;
                    t->salt_gen = gen;
                }
                memcpy(&v, t->salt + t->salt_pos, 4);
                memset(t->salt + t->salt_pos, 0, 4);
                t->salt_pos += 4;
            } else if (fp_os_random((unsigned char *)&v, 4) != 0) {
                return -1;
            }
            if (v < limit) { *out = v % FP_SALT_MAX + 1; return 0; }
        }
    }

    /* ---------------------------------------------------------------- deflate */
    #include "fp_deflate.h"
    /* Inputs of at most FPD_MAX_INPUT bytes go through fp_deflate.c's exact re-implementation of
       zlib's level 6 when this is 1: set at import once it matched the interpreter's zlib. */
    static int fp_exact_deflate = 0;

    static size_t fp_deflate_bound(size_t n) {
        if (n > (size_t)(ULONG_MAX / 2) || n > ((size_t)-1) / 2) return n + n / 2 + 64;
        return (size_t)deflateBound(NULL, (uLong)n) + 16;
    }

    /* zlib.compress(data): level 6, windowBits 15, memLevel 8, default strategy; the input is fed
       in UINT_MAX chunks with Z_FINISH on the last one, exactly as CPython does. 0 ok, -1 no
       memory, -2 zlib failure. */
    static int fp_deflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen) {
        z_stream local, *zs;
        fp_tls *t = fp_tls_get();
        int rc, flush;
        size_t in_left = n, out_left = cap;
        if (fp_exact_deflate && n <= FPD_MAX_INPUT && fpd_compress(in, n, out, cap, outlen) == FPD_OK) return 0;
        if (t != NULL) {
            zs = &t->def;
            if (!t->def_ready) {
                memset(zs, 0, sizeof *zs);
                rc = deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
                if (rc != Z_OK) return rc == Z_MEM_ERROR ? -1 : -2;
                t->def_ready = 1;
            } else if (deflateReset(zs) != Z_OK) {
                return -2;
            }
        } else {
            zs = &local;
            memset(zs, 0, sizeof *zs);
            rc = deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            if (rc != Z_OK) return rc == Z_MEM_ERROR ? -1 : -2;
        }
        zs->next_in = (Bytef *)in;
        zs->next_out = out;
        do {
            uInt ai = in_left > (size_t)UINT_MAX ? UINT_MAX : (uInt)in_left;
            uInt ao = out_left > (size_t)UINT_MAX ? UINT_MAX : (uInt)out_left;
            flush = ai == in_left ? Z_FINISH : Z_NO_FLUSH;
            zs->avail_in = ai;
            zs->avail_out = ao;
            rc = deflate(zs, flush);
            in_left -= ai - zs->avail_in;
            out_left -= ao - zs->avail_out;
        } while (rc == Z_OK);
        *outlen = cap - out_left;
        if (zs == &local) deflateEnd(zs);
        zs->next_in = NULL;
        zs->next_out = NULL;
        return rc == Z_STREAM_END ? 0 : -2;
    }

    /* Sign a packed 007 content in place and deflate it. `buf` holds 34 free bytes followed by the
       signing info: they become string(signature). */
    static int fp_seal_007(const char *cert, size_t certlen, uint32_t issue_ts, uint32_t salt,
                           unsigned char *buf, size_t len, unsigned char *out, size_t cap, size_t *outlen) {
        buf[0] = 32;
        buf[1] = 0;
        if (fp_sign_007(cert, certlen, issue_ts, salt, buf + 34, len - 34, buf + 2) < 0) return -3;
        return fp_deflate(buf, len, out, cap, outlen);
    }

    /* ---------------------------------------------------------------- inflate */
    #define FP_INF_OK 0
    #define FP_INF_INVALID 1
    #define FP_INF_TOO_BIG 2
    #define FP_INF_TRUNCATED 3
    #define FP_INF_TRAILING 4
    #define FP_INF_NOMEM 5

    /* Mirrors zlib.decompressobj().decompress(data, FP_MAX_PAYLOAD) followed by the checks of
       _pure._inflate. *out is `stackbuf` or a malloc'd block the caller frees. */
    static int fp_inflate(const unsigned char *in, size_t n, unsigned char *stackbuf, size_t stackcap,
                          unsigned char **out, size_t *outlen) {
        z_stream local, *zs;
        fp_tls *t = fp_tls_get();
        unsigned char *buf = stackbuf;
        size_t cap = stackcap < FP_MAX_PAYLOAD ? stackcap : FP_MAX_PAYLOAD;
        size_t in_left = n, used;
        int err = Z_OK, status;
        *out = stackbuf;
        *outlen = 0;
        if (t != NULL) {
            zs = &t->inf;
            if (!t->inf_ready) {
                memset(zs, 0, sizeof *zs);
                err = inflateInit2(zs, MAX_WBITS);
                if (err != Z_OK) return err == Z_MEM_ERROR ? FP_INF_NOMEM : FP_INF_INVALID;
                t->inf_ready = 1;
            } else if (inflateReset(zs) != Z_OK) {
                return FP_INF_INVALID;
            }
        } else {
            zs = &local;
            memset(zs, 0, sizeof *zs);
            err = inflateInit2(zs, MAX_WBITS);
            if (err != Z_OK) return err == Z_MEM_ERROR ? FP_INF_NOMEM : FP_INF_INVALID;
        }
        zs->next_in = (Bytef *)in;
        zs->next_out = buf;
        zs->avail_out = (uInt)cap;
        do {
            uInt chunk = in_left > (size_t)UINT_MAX ? UINT_MAX : (uInt)in_left;
            zs->avail_in = chunk;
            in_left -= chunk;
            do {
                if (zs->avail_out == 0) {
                    size_t newcap;
                    unsigned char *grown;
                    used = (size_t)(zs->next_out - buf);
                    if (used >= FP_MAX_PAYLOAD) goto save;  /* the output limit: stop here */
                    newcap = cap < 32768 ? 32768 : cap * 8;
                    if (newcap > FP_MAX_PAYLOAD) newcap = FP_MAX_PAYLOAD;
                    if (buf == stackbuf) {
                        grown = (unsigned char *)malloc(newcap);
                        if (grown != NULL && used) memcpy(grown, buf, used);
                    } else {
                        grown = (unsigned char *)realloc(buf, newcap);
                    }
                    if (grown == NULL) { status = FP_INF_NOMEM; goto done; }
                    buf = grown;
                    cap = newcap;
                    zs->next_out = buf + used;
                    zs->avail_out = (uInt)(cap - used);
                }
                err = inflate(zs, Z_SYNC_FLUSH);
                if (err != Z_OK && err != Z_BUF_ERROR && err != Z_STREAM_END) goto save;
            } while (zs->avail_out == 0);
        } while (err != Z_STREAM_END && in_left != 0);
    save:
        if (err == Z_STREAM_END)
            status = (zs->avail_in > 0 || in_left > 0) ? FP_INF_TRAILING : FP_INF_OK;
        else if (err != Z_OK && err != Z_BUF_ERROR)
            status = FP_INF_INVALID;
        else if (zs->avail_in > 0 || in_left > 0)
            status = FP_INF_TOO_BIG;   /* input left over when the output limit was reached */
        else
            status = FP_INF_TRUNCATED;
    done:
        *outlen = (size_t)(zs->next_out - buf);
        *out = buf;
        if (zs == &local) inflateEnd(zs);
        zs->next_in = NULL;
        zs->next_out = NULL;
        if (status != FP_INF_OK && buf != stackbuf) {
            free(buf);
            *out = stackbuf;
            *outlen = 0;
        }
        return status;
    }

    /* ---------------------------------------------------------------- base64 */
    static const unsigned char fp_b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    static void fp_b64encode(const unsigned char *in, size_t n, unsigned char *out) {
        const unsigned char *a = fp_b64_alphabet;
        size_t i = 0;
        for (; i + 3 <= n; i += 3) {
            uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
            out[0] = a[v >> 18]; out[1] = a[(v >> 12) & 63]; out[2] = a[(v >> 6) & 63]; out[3] = a[v & 63];
            out += 4;
        }
        if (n - i == 1) {
            uint32_t v = (uint32_t)in[i] << 16;
            out[0] = a[v >> 18]; out[1] = a[(v >> 12) & 63]; out[2] = '='; out[3] = '=';
        } else if (n - i == 2) {
            uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
            out[0] = a[v >> 18]; out[1] = a[(v >> 12) & 63]; out[2] = a[(v >> 6) & 63]; out[3] = '=';
        }
    }

    #define XX 255
    static const unsigned char fp_b64_values[256] = {
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX, XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,62,XX,XX,XX,63, 52,53,54,55,56,57,58,59,60,61,XX,XX,XX,XX,XX,XX,
        XX, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14, 15,16,17,18,19,20,21,22,23,24,25,XX,XX,XX,XX,XX,
        XX,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40, 41,42,43,44,45,46,47,48,49,50,51,XX,XX,XX,XX,XX,
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX, XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX, XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX, XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,
        XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX, XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX,XX
    };
    #undef XX

    /* The _pure._BASE64 rule: whole groups of 4 from the standard alphabet, the last one possibly
       "xx==" or "xxx="; leftover bits of a padded group are ignored (as binascii does). Writes at
       most n / 4 * 3 bytes; -1 if the text breaks the rule. */
    static int fp_b64decode(const unsigned char *in, size_t n, unsigned char *out, size_t *outlen) {
        const unsigned char *v = fp_b64_values;
        size_t groups, g, o = 0;
        *outlen = 0;
        if (n % 4) return -1;
        groups = n / 4;
        for (g = 0; g < groups; g++, in += 4) {
            unsigned a = v[in[0]], b = v[in[1]], c, d;
            if (g + 1 == groups && in[3] == '=') {
                if (in[2] == '=') {
                    if ((a | b) > 63) return -1;
                    out[o++] = (unsigned char)((a << 2) | (b >> 4));
                } else {
                    c = v[in[2]];
                    if ((a | b | c) > 63) return -1;
                    out[o++] = (unsigned char)((a << 2) | (b >> 4));
                    out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
                }
                break;
            }
            c = v[in[2]];
            d = v[in[3]];
            if ((a | b | c | d) > 63) return -1;
            out[o++] = (unsigned char)((a << 2) | (b >> 4));
            out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
            out[o++] = (unsigned char)(((c & 3) << 6) | d);
        }
        *outlen = o;
        return 0;
    }

    /* Decode then inflate a 007 body: -1 bad base64, -2 no memory, else an FP_INF_* status. */
    static int fp_unpack_007(const unsigned char *body, size_t n, unsigned char *dstack, size_t dcap,
                             unsigned char *istack, size_t icap, unsigned char **out, size_t *outlen) {
        unsigned char *dbuf = dstack;
        size_t dlen;
        int rc;
        *out = istack;
        *outlen = 0;
        if (n / 4 * 3 > dcap) {
            dbuf = (unsigned char *)malloc(n / 4 * 3);
            if (dbuf == NULL) return -2;
        }
        if (fp_b64decode(body, n, dbuf, &dlen) < 0) rc = -1;
        else rc = fp_inflate(dbuf, dlen, istack, icap, out, outlen);
        if (dbuf != dstack) free(dbuf);
        return rc;
    }
    """
    size_t FP_MAX_PAYLOAD
    uint32_t FP_SALT_MAX
    size_t FP_B64LEN(size_t) nogil
    int FP_INF_OK, FP_INF_INVALID, FP_INF_TOO_BIG, FP_INF_TRUNCATED, FP_INF_TRAILING, FP_INF_NOMEM
    int fp_unicode_ready(object) except -1
    int fp_sign_007(const char*, size_t, uint32_t, uint32_t, const unsigned char*, size_t,
                    unsigned char*) nogil
    int fp_sign_006(const char*, size_t, const char*, size_t, const char*, size_t, const char*, size_t,
                    const unsigned char*, size_t, unsigned char*) nogil
    uint32_t fp_crc32(const char*, size_t) nogil
    int fp_random_salt(uint32_t*) nogil
    size_t fp_deflate_bound(size_t) nogil
    int fp_deflate(const unsigned char*, size_t, unsigned char*, size_t, size_t*) nogil
    int fp_seal_007(const char*, size_t, uint32_t, uint32_t, unsigned char*, size_t, unsigned char*,
                    size_t, size_t*) nogil
    void fp_b64encode(const unsigned char*, size_t, unsigned char*) nogil
    int fp_b64decode(const unsigned char*, size_t, unsigned char*, size_t*) nogil
    int fp_inflate(const unsigned char*, size_t, unsigned char*, size_t, unsigned char**, size_t*) nogil
    int fp_unpack_007(const unsigned char*, size_t, unsigned char*, size_t, unsigned char*, size_t,
                      unsigned char**, size_t*) nogil


MAX_PAYLOAD = _limits.MAX_PAYLOAD
MAX_TOKEN_LENGTH = _limits.MAX_TOKEN_LENGTH
SALT_MAX = _limits.SALT_MAX
# The C code's own copies (macros) must say the same.
if FP_MAX_PAYLOAD != MAX_PAYLOAD or FP_SALT_MAX != SALT_MAX:
    raise ImportError("the C kernel's limits differ from agora_token._limits")

cdef enum:
    STACK_PACK = 1536        # packed content of a typical token fits on the stack
    STACK_OUT = 2048         # so does its deflated form
    STACK_DECODE = 2048      # a parsed token's base64-decoded body
    STACK_INFLATE = 4096     # and its inflated payload
    NOGIL_BASE64 = 16384     # encode this much base64 or more without the GIL
    NOGIL_PARSE = 4096       # decode/inflate a token body this long or longer without the GIL
    NOGIL_SIGN = 4096        # sign this many bytes or more without the GIL

cdef str _BASE64_ERROR = "token body is not standard padded base64"


# ------------------------------------------------------------------------------------ conversions

# Values that do not fit their wire field: the project's own words, the same as _pure's (which
# finds the field by walking the values in this kernel's order) on every Python.

cdef object _range_error(str what, long long top):
    return ValueError(f"{what} must be from 0 to {top}")


cdef object _count_error(str what):
    return ValueError(f"{what} must be at most 65535")


cdef object _length_error(str what):
    return ValueError(f"{what} must be at most 65535 bytes of UTF-8")


cdef object _not_str(str what, object value):
    return TypeError(f"{what} must be a str, not {type(value).__name__}")


cdef inline const char* _utf8(object text, Py_ssize_t* size, str what) except NULL:
    """UTF-8 of a str (cached by the str itself); TypeError for anything else."""
    if not PyUnicode_Check(text):
        raise _not_str(what, text)
    return PyUnicode_AsUTF8AndSize(text, size)


cdef object _integer(object value, str what):
    """An int, or an object with __index__ (as struct accepts); TypeError naming ``what`` else."""
    try:
        return PyNumber_Index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None


cdef inline long long _in_range(object value, str what, long long top) except -1:
    """An int or __index__ object within 0..``top``; ValueError naming ``what`` else (never -1 on success)."""
    cdef int overflow = 0
    cdef long long v
    if not PyLong_Check(value):
        value = _integer(value, what)
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v < 0 or v > top:
        raise _range_error(what, top)
    return v


cdef uint32_t _u32(object value, str what) except? 0xFFFFFFFF:
    return <uint32_t>_in_range(value, what, 0xFFFFFFFF)


cdef int _u16(object value, str what) except -1:
    return <int>_in_range(value, what, 0xFFFF)


# ------------------------------------------------------------------------------------ packing

cdef struct Packer:
    unsigned char* data
    size_t len
    size_t cap
    bint heap


cdef int _reserve(Packer* p, size_t extra) except -1:
    cdef size_t need = p.len + extra
    cdef size_t cap = p.cap
    cdef unsigned char* grown
    if need <= cap:
        return 0
    if need < p.len:
        raise MemoryError()
    while cap < need:
        if cap > (<size_t>-1) // 2:
            cap = need
            break
        cap *= 2
    if p.heap:
        grown = <unsigned char*>realloc(p.data, cap)
    else:
        grown = <unsigned char*>malloc(cap)
        if grown != NULL:
            memcpy(grown, p.data, p.len)
    if grown == NULL:
        raise MemoryError()
    p.data = grown
    p.cap = cap
    p.heap = True
    return 0


cdef inline void _put16(Packer* p, unsigned int v) noexcept nogil:
    p.data[p.len] = <unsigned char>v
    p.data[p.len + 1] = <unsigned char>(v >> 8)
    p.len += 2


cdef inline void _put32(Packer* p, uint32_t v) noexcept nogil:
    p.data[p.len] = <unsigned char>v
    p.data[p.len + 1] = <unsigned char>(v >> 8)
    p.data[p.len + 2] = <unsigned char>(v >> 16)
    p.data[p.len + 3] = <unsigned char>(v >> 24)
    p.len += 4


cdef int _pack_bytes(Packer* p, const char* data, Py_ssize_t size, str what) except -1:
    """string/bytes: u16 length, then the bytes."""
    if size > 0xFFFF:
        raise _length_error(what)
    _reserve(p, 2 + <size_t>size)
    _put16(p, <unsigned int>size)
    if size:
        memcpy(p.data + p.len, data, <size_t>size)
        p.len += <size_t>size
    return 0


cdef int _pack_text(Packer* p, object text, str what) except -1:
    cdef Py_ssize_t size
    cdef const char* data = _utf8(text, &size, what)
    return _pack_bytes(p, data, size, what)


cdef inline bint _pack_plain_privilege(Packer* p, object key, object value) noexcept:
    """Pack (key, value) if both are exact ints in range (the usual case); else leave it to the
    general path, which converts and raises. The caller has reserved the room."""
    cdef long k, v
    if not (PyLong_CheckExact(key) and PyLong_CheckExact(value)):
        return False
    k = PyLong_AsLong(key)
    v = PyLong_AsLong(value)
    if k < 0 or k > 0xFFFF or v < 0 or v > 0xFFFFFFFF:  # -1 with an error set is caught here too
        PyErr_Clear()
        return False
    _put16(p, <unsigned int>k)
    _put32(p, <uint32_t>v)
    return True


cdef int _pack_privileges(Packer* p, object privileges) except -1:
    """map<u16,u32>: u16 count, then (u16 id, u32 value) pairs in the given order."""
    cdef Py_ssize_t count = len(privileges)
    cdef tuple items
    cdef int key
    cdef uint32_t value
    if count > 0xFFFF:
        raise _count_error("privilege count")
    _reserve(p, 2)
    _put16(p, <unsigned int>count)
    if count == 0:
        return 0
    items = privileges if PyTuple_CheckExact(privileges) else tuple(privileges)
    _reserve(p, 6 * <size_t>count)
    for item in items:
        if PyTuple_CheckExact(item) and len(<tuple>item) == 2:
            if _pack_plain_privilege(p, <object>PyTuple_GET_ITEM(item, 0), <object>PyTuple_GET_ITEM(item, 1)):
                continue
            key = _u16((<tuple>item)[0], "privilege id")
            value = _u32((<tuple>item)[1], "privilege value")
        else:
            k, v = item
            key = _u16(k, "privilege id")
            value = _u32(v, "privilege value")
        _reserve(p, 6)
        _put16(p, <unsigned int>key)
        _put32(p, value)
    return 0


cdef int _pack_word(Packer* p, object value) except -1:
    """A 16-bit field: -32768..65535, packed as value & 0xFFFF."""
    cdef int overflow = 0
    cdef long long v
    if not PyLong_Check(value):
        value = _integer(value, "service field")
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v < -0x8000 or v > 0xFFFF:
        raise ValueError("service field must be from -32768 to 65535")
    _reserve(p, 2)
    _put16(p, <unsigned int>(v & 0xFFFF))
    return 0


cdef int _pack_fields(Packer* p, object fields) except -1:
    cdef tuple items = fields if PyTuple_CheckExact(fields) else tuple(fields)
    for field in items:
        if PyUnicode_Check(field):
            _pack_text(p, field, "service field")
        else:
            _pack_word(p, field)
    return 0


cdef object _ascii_token(const char* p1, Py_ssize_t n1, const char* p2, Py_ssize_t n2,
                         const unsigned char* data, size_t size):
    """p1 + p2 + base64(data) as a new ASCII str, encoded in place (without the GIL when long)."""
    cdef size_t b64 = FP_B64LEN(size)
    cdef object text = PyUnicode_New(n1 + n2 + <Py_ssize_t>b64, 127)
    cdef unsigned char* out = <unsigned char*>PyUnicode_DATA(text)
    if n1:
        memcpy(out, p1, <size_t>n1)
    if n2:
        memcpy(out + n1, p2, <size_t>n2)
    out += n1 + n2
    if b64 >= NOGIL_BASE64:
        with nogil:
            fp_b64encode(data, size, out)
    else:
        fp_b64encode(data, size, out)
    return text


# ------------------------------------------------------------------------------------ 007

def sign_007(app_certificate, issue_ts, salt, signing_info):
    """HMAC-SHA256 signature of a 007 token's signing info (SPEC §3.1)."""
    cdef uint32_t ts = _u32(issue_ts, "issue_ts")
    cdef Py_ssize_t certlen
    cdef const char* cert = _utf8(app_certificate, &certlen, "app_certificate")
    cdef uint32_t sa = _u32(salt, "salt")
    cdef unsigned char sig[32]
    cdef Py_buffer view
    cdef int rc
    PyObject_GetBuffer(signing_info, &view, PyBUF_SIMPLE)
    try:
        if view.len >= NOGIL_SIGN:
            with nogil:
                rc = fp_sign_007(cert, <size_t>certlen, ts, sa, <const unsigned char*>view.buf,
                                 <size_t>view.len, sig)
        else:
            rc = fp_sign_007(cert, <size_t>certlen, ts, sa, <const unsigned char*>view.buf,
                             <size_t>view.len, sig)
    finally:
        PyBuffer_Release(&view)
    if rc < 0:
        raise MemoryError("OpenSSL could not compute HMAC-SHA256")
    return PyBytes_FromStringAndSize(<char*>sig, 32)


cdef uint32_t _salt_or_draw(object salt) except? 0xFFFFFFFF:
    """The given salt, or a fresh one for None (drawn here: one Python call less per token)."""
    cdef uint32_t value
    if salt is not None:
        return _u32(salt, "salt")
    if fp_random_salt(&value) != 0:
        raise OSError("the operating system gave no random bytes")
    return value


cdef uint32_t _now_plus(object value, uint32_t lifetime, str what) except? 0xFFFFFFFF:
    """The given time (the argument ``what``), or now + ``lifetime`` for None."""
    if value is not None:
        return _u32(value, what)
    return <uint32_t>(<unsigned long long>time(NULL) + lifetime)


cdef int _put_007_times(Packer* p, uint32_t ts, uint32_t ex, uint32_t sa, Py_ssize_t count) except -1:
    """The signing info after the App ID: issue time, expire, salt, service count."""
    if count > 0xFFFF:
        raise _count_error("service count")
    _reserve(p, 14)
    _put32(p, ts)
    _put32(p, ex)
    _put32(p, sa)
    _put16(p, <unsigned int>count)
    return 0


cdef int _pack_privileges_until(Packer* p, tuple ids, uint32_t value) except -1:
    """map<u16,u32> giving each privilege id of ``ids`` the same value."""
    cdef Py_ssize_t count = len(ids), i
    if count > 0xFFFF:
        raise _count_error("privilege count")
    _reserve(p, 2 + 6 * <size_t>count)
    _put16(p, <unsigned int>count)
    for i in range(count):
        _put16(p, <unsigned int>_u16(ids[i], "privilege id"))
        _put32(p, value)
    return 0


def build_007(app_id, app_certificate, issue_ts, expire, salt, services):
    """Pack, sign, deflate and base64 one 007 token; ``issue_ts``/``salt`` None: now / a fresh salt."""
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef Py_ssize_t count
    cdef uint32_t ts, ex, sa
    cdef int rc
    cdef tuple items
    p.data = stack
    p.len = 34  # room for string(signature), written once the signing info is packed
    p.cap = STACK_PACK
    p.heap = False
    try:
        _pack_text(&p, app_id, "app_id")
        count = len(services)
        ts = _now_plus(issue_ts, 0, "issue_ts")
        ex = _u32(expire, "expire")
        sa = _salt_or_draw(salt)
        _put_007_times(&p, ts, ex, sa, count)
        items = services if PyTuple_CheckExact(services) else tuple(services)
        for service in items:
            if PyTuple_CheckExact(service) and len(<tuple>service) == 3:
                service_type = (<tuple>service)[0]
                privileges = (<tuple>service)[1]
                fields = (<tuple>service)[2]
            else:
                service_type, privileges, fields = service
            rc = _u16(service_type, "service type")
            _reserve(&p, 2)
            _put16(&p, <unsigned int>rc)
            _pack_privileges(&p, privileges)
            if fields:
                _pack_fields(&p, fields)
        return _seal_007(&p, app_certificate, ts, sa)
    finally:
        if p.heap:
            free(p.data)


cdef object _seal_007(Packer* p, object app_certificate, uint32_t ts, uint32_t sa):
    """Sign the packed signing info (after 34 bytes of room for the signature), deflate, base64."""
    cdef unsigned char stack_out[STACK_OUT]
    cdef unsigned char* out = stack_out
    cdef size_t bound, outlen = 0
    cdef Py_ssize_t certlen
    cdef const char* cert = _utf8(app_certificate, &certlen, "app_certificate")
    cdef int rc
    if _DEFLATE_WITH_PYTHON:
        return _seal_with_python_zlib(cert, <size_t>certlen, ts, sa, p)
    bound = fp_deflate_bound(p.len)
    if bound > STACK_OUT:
        out = <unsigned char*>malloc(bound)
        if out == NULL:
            raise MemoryError()
    try:
        with nogil:
            rc = fp_seal_007(cert, <size_t>certlen, ts, sa, p.data, p.len, out, bound, &outlen)
        if rc == -1:
            raise MemoryError()
        if rc < 0:
            raise RuntimeError("zlib/OpenSSL failed to seal the token")
        return _ascii_token("007", 3, NULL, 0, out, outlen)
    finally:
        if out != stack_out:
            free(out)


cdef object _seal_with_python_zlib(const char* cert, size_t certlen, uint32_t ts, uint32_t sa, Packer* p):
    """Sign in C but deflate with Python's zlib module (see _DEFLATE_WITH_PYTHON)."""
    cdef int rc
    cdef bytes compressed
    p.data[0] = 32
    p.data[1] = 0
    with nogil:
        rc = fp_sign_007(cert, certlen, ts, sa, p.data + 34, p.len - 34, p.data + 2)
    if rc < 0:
        raise MemoryError("OpenSSL could not compute HMAC-SHA256")
    compressed = _zlib.compress(PyBytes_FromStringAndSize(<char*>p.data, <Py_ssize_t>p.len))
    return _ascii_token("007", 3, NULL, 0, <const unsigned char*>PyBytes_AS_STRING(compressed),
                        <size_t>PyBytes_GET_SIZE(compressed))


cdef bint _linked_zlib_matches_python() except -1:
    """Whether the zlib this module links deflates exactly like the interpreter's zlib module."""
    cdef bytes sample = bytes(range(256)) + b"agora-token " * 40 + bytes(range(255, -1, -3))
    cdef unsigned char out[4096]
    cdef size_t outlen = 0
    if fp_deflate(<const unsigned char*>PyBytes_AS_STRING(sample), <size_t>len(sample), out, 4096, &outlen) != 0:
        return False
    return PyBytes_FromStringAndSize(<char*>out, <Py_ssize_t>outlen) == _zlib.compress(sample)


# Tokens must be the same bytes on both backends, and the pure one deflates with the interpreter's
# zlib. Some interpreters ship zlib-ng instead of zlib (CPython 3.14 on Windows, distributions with
# zlib-ng-compat), whose output differs: there this module deflates through the zlib module too.
cdef bint _DEFLATE_WITH_PYTHON = not _linked_zlib_matches_python()
DEFLATES_WITH_PYTHON_ZLIB = bool(_DEFLATE_WITH_PYTHON)


def _set_deflate_with_python_zlib(bint on):
    """Tests only: take the zlib-module path even where the linked zlib matches it."""
    global _DEFLATE_WITH_PYTHON
    _DEFLATE_WITH_PYTHON = on


# ------------------------------------------------------------------------------------ exact deflate

cdef extern from *:
    int fp_exact_deflate

cdef extern from "fp_deflate.h":
    enum: FPD_MAX_INPUT
    enum: FPD_OK
    int fpd_compress(const unsigned char*, size_t, unsigned char*, size_t, size_t*) nogil

EXACT_DEFLATE_MAX = FPD_MAX_INPUT


def _exact_deflate(data):
    """Tests and tools: fp_deflate.c's output for ``data`` (bytes-like, at most EXACT_DEFLATE_MAX
    bytes), whichever path tokens take; None for longer inputs."""
    cdef unsigned char out[FPD_MAX_INPUT + 64]
    cdef size_t outlen = 0
    cdef bytes raw = bytes(data)
    if len(raw) > FPD_MAX_INPUT:
        return None
    if fpd_compress(<const unsigned char*>PyBytes_AS_STRING(raw), <size_t>len(raw), out, sizeof(out), &outlen) != FPD_OK:
        raise RuntimeError("fp_deflate refused an input it should take")
    return PyBytes_FromStringAndSize(<char*>out, <Py_ssize_t>outlen)


def _deflate_probes():
    """The inputs the exact deflate is checked on at import: real token payloads (inflated from
    tokens this module builds through zlib) and edge cases of the matcher and the block choice."""
    import base64
    cert = "5CFd2fd1755d40ecb72977518be15d3b"
    app = "970CA35de60c44645bbae8a215061b33"
    rtc = ((1, ((1, 600), (2, 600), (3, 600), (4, 600)), ("room", "12345")),)
    every = tuple((t, ((1, 3600),), ("channel-%d" % t, "user")) for t in range(1, 11))
    global fp_exact_deflate
    saved = fp_exact_deflate
    fp_exact_deflate = 0
    try:
        tokens = [build_007(app, cert, 1700000000, 86400, 12345678, rtc),
                  build_007(app, cert, 1, 0xFFFFFFFF, 1, every),
                  build_007(app, cert, 1700000000, 600, 99999999, ())]
    finally:
        fp_exact_deflate = saved
    probes = [_zlib.decompress(base64.b64decode(t[3:])) for t in tokens]
    noise = bytes((i * 2654435761 >> 7) & 0xFF for i in range(1, 901))
    text = b"agora-token " * 40 + bytes(range(256)) + b"the quick brown fox " * 9
    probes += [b"", b"\x00", b"a", b"ab", b"abc", b"\x07" * 1000, b"x" + b"y" * 258 + b"z",
               b"q" * 259, noise, noise[:200] * 3, text, bytes(range(256)) * 8,
               (text * 4)[:FPD_MAX_INPUT], (noise * 3)[:FPD_MAX_INPUT]]
    return probes


cdef bint _exact_matches_python(bint force_mismatch) except -1:
    """Whether fp_deflate.c deflates every probe exactly as the interpreter's zlib module does."""
    for i, probe in enumerate(_deflate_probes()):
        expected = _zlib.compress(probe)
        if force_mismatch and i == 0:
            expected = expected[:len(expected) - 1] + bytes([expected[len(expected) - 1] ^ 1])
        if _exact_deflate(probe) != expected:
            return False
    return True


def _select_deflate(bint force_mismatch=False):
    """Chooses the deflate path, as at import: the exact re-implementation for inputs up to
    EXACT_DEFLATE_MAX bytes when it matches the interpreter's zlib on every probe and
    AGORA_TOKEN_EXACT_DEFLATE is not 0; zlib otherwise. ``force_mismatch`` (tests) pretends a probe
    differs. Returns DEFLATE_PATH: "exact", "zlib" (the linked zlib) or "python-zlib" (the zlib
    module, where the linked zlib differs from it)."""
    global fp_exact_deflate, DEFLATE_PATH
    import os
    fp_exact_deflate = 0
    off = os.environ.get("AGORA_TOKEN_EXACT_DEFLATE", "").strip().lower() in {"0", "false", "no", "off"}
    if not off and _exact_matches_python(force_mismatch):
        fp_exact_deflate = 1
    DEFLATE_PATH = "python-zlib" if _DEFLATE_WITH_PYTHON else "exact" if fp_exact_deflate else "zlib"
    return DEFLATE_PATH


DEFLATE_PATH = _select_deflate()


# ------------------------------------------------------------------------------------ 006

def sign_006(app_certificate, app_id, channel_name, uid, message):
    """HMAC-SHA256 signature of a 006 token (SPEC §2.1)."""
    cdef Py_ssize_t applen, chlen, uidlen, certlen
    cdef const char* app = _utf8(app_id, &applen, "app_id")
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")
    cdef const char* account = _utf8(uid, &uidlen, "uid")
    cdef const char* cert
    cdef unsigned char sig[32]
    cdef Py_buffer view
    cdef int rc
    try:
        PyObject_GetBuffer(message, &view, PyBUF_SIMPLE)
    except Exception:  # as ``bytes + message`` reports it
        raise TypeError(f"can't concat {type(message).__name__} to bytes") from None
    try:
        cert = _utf8(app_certificate, &certlen, "app_certificate")
        if view.len + applen + chlen + uidlen >= NOGIL_SIGN:
            with nogil:
                rc = fp_sign_006(cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                                 account, <size_t>uidlen, <const unsigned char*>view.buf,
                                 <size_t>view.len, sig)
        else:
            rc = fp_sign_006(cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                             account, <size_t>uidlen, <const unsigned char*>view.buf,
                             <size_t>view.len, sig)
    finally:
        PyBuffer_Release(&view)
    if rc < 0:
        raise MemoryError("OpenSSL could not compute HMAC-SHA256")
    return PyBytes_FromStringAndSize(<char*>sig, 32)


def crc32(text):
    """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""
    cdef Py_ssize_t size
    cdef const char* data = _utf8(text, &size, "text")
    cdef uint32_t crc
    if size >= NOGIL_SIGN:
        with nogil:
            crc = fp_crc32(data, <size_t>size)
    else:
        crc = fp_crc32(data, <size_t>size)
    return PyLong_FromUnsignedLong(crc)


def build_006(app_id, app_certificate, channel_name, uid, salt, ts, privileges):
    """Pack, sign and base64 one 006 token; ``uid`` is already the decimal or account string.

    ``salt`` None draws a fresh salt; ``ts`` None is 24 h from now.
    """
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef Py_ssize_t chlen, uidlen
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")
    cdef const char* account = _utf8(uid, &uidlen, "uid")
    cdef uint32_t s, t
    p.data = stack
    p.len = _MESSAGE_006
    p.cap = STACK_PACK
    p.heap = False
    try:
        s = _salt_or_draw(salt)
        t = _now_plus(ts, _TOKEN_006_LIFETIME, "ts")
        _put32(&p, s)
        _put32(&p, t)
        _pack_privileges(&p, privileges)
        return _seal_006(&p, app_id, app_certificate, channel, chlen, account, uidlen)
    finally:
        if p.heap:
            free(p.data)


# content = string(signature) | u32 crc(channel) | u32 crc(uid) | string(message): the message
# (salt | ts | privileges) is packed straight into place at this offset.
cdef enum:
    _MESSAGE_006 = 44


cdef inline int _sign_006_into(Packer* p, const char* cert, size_t certlen, const char* app, size_t applen,
                               const char* channel, size_t chlen, const char* account, size_t uidlen,
                               size_t msglen) noexcept nogil:
    """Write string(signature), both CRCs and the message length in front of the message."""
    cdef int rc = fp_sign_006(cert, certlen, app, applen, channel, chlen, account, uidlen,
                              p.data + _MESSAGE_006, msglen, p.data + 2)
    p.data[0] = 32
    p.data[1] = 0
    p.len = 34
    _put32(p, fp_crc32(channel, chlen))
    _put32(p, fp_crc32(account, uidlen))
    _put16(p, <unsigned int>msglen)
    p.len = _MESSAGE_006 + msglen
    return rc


cdef object _seal_006(Packer* p, object app_id, object app_certificate,
                      const char* channel, Py_ssize_t chlen, const char* account, Py_ssize_t uidlen):
    """Sign the message packed at offset 44, fill in the fields before it, base64 the whole."""
    cdef Py_ssize_t applen, certlen
    cdef const char* app
    cdef const char* cert
    cdef size_t msglen = p.len - _MESSAGE_006
    cdef int rc
    if msglen > 0xFFFF:
        raise ValueError("006 message must be at most 65535 bytes")
    app = _utf8(app_id, &applen, "app_id")
    cert = _utf8(app_certificate, &certlen, "app_certificate")
    # A typical 006 token is a fraction of a microsecond of C: less than dropping and retaking the GIL.
    if msglen + <size_t>(applen + chlen + uidlen) >= NOGIL_SIGN:
        with nogil:
            rc = _sign_006_into(p, cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                                account, <size_t>uidlen, msglen)
    else:
        rc = _sign_006_into(p, cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                            account, <size_t>uidlen, msglen)
    if rc < 0:
        raise MemoryError("OpenSSL could not compute HMAC-SHA256")
    if PyUnicode_IS_ASCII(app_id):
        return _ascii_token("006", 3, app, applen, p.data, p.len)
    return "006" + app_id + _ascii_token(NULL, 0, NULL, 0, p.data, p.len)


# ------------------------------------------------------------------------------------ RTC hot path

cdef inline Py_ssize_t _decimal(uint32_t value, char* out) noexcept nogil:
    """``value`` in decimal, as str(value) writes it (1 to 10 digits); returns the length."""
    cdef char reversed_digits[10]
    cdef Py_ssize_t n = 0, i
    while True:
        reversed_digits[n] = <char>(48 + value % 10)  # 48: '0'
        n += 1
        value //= 10
        if value == 0:
            break
    for i in range(n):
        out[i] = reversed_digits[n - 1 - i]
    return n


def rtc_token(dict shapes, app_id, app_certificate, channel_name, uid, role, expire, privilege_expire,
              version):
    """An RTC token for a uid, now and with a fresh salt, if the other arguments have a known shape; else None.

    ``shapes`` maps the arguments but the uid, exactly as passed, to what they mean once checked
    (the builder fills it: see ``_pure.rtc_token``); only exact ``str``/``int`` arguments are
    looked up, and the uid must be an ``int`` in 0..2^32-1.
    """
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef int overflow = 0
    cdef long long user
    cdef char digits[16]
    cdef Py_ssize_t uidlen = 0, chlen
    cdef const char* channel
    cdef tuple shape, ids
    cdef uint32_t lifetime, privilege_lifetime, sa
    cdef unsigned long long now, until, ts
    cdef int service_type
    cdef bint is_006
    if not (PyLong_CheckExact(uid) and PyUnicode_CheckExact(app_id) and PyUnicode_CheckExact(app_certificate)
            and PyUnicode_CheckExact(channel_name) and PyLong_CheckExact(expire)
            and (privilege_expire is None or PyLong_CheckExact(privilege_expire))
            and PyUnicode_CheckExact(version)
            and (PyUnicode_CheckExact(role) or (PyLong_Check(role) and not PyBool_Check(role)))):
        return None
    user = PyLong_AsLongLongAndOverflow(uid, &overflow)
    if overflow or user < 0 or user > 0xFFFFFFFF:
        return None
    found = shapes.get((app_id, app_certificate, channel_name, role, expire, privilege_expire, version))
    if found is None:
        return None
    shape = <tuple?>found
    is_006 = shape[0]
    lifetime = _u32(shape[1], "expire")
    privilege_lifetime = _u32(shape[2], "privilege_expire")
    service_type = _u16(shape[3], "service type")
    ids = <tuple?>shape[4]
    if user:
        uidlen = _decimal(<uint32_t>user, digits)
    channel = _utf8(channel_name, &chlen, "channel_name")
    now = <unsigned long long>time(NULL)
    p.data = stack
    p.cap = STACK_PACK
    p.heap = False
    try:
        sa = _salt_or_draw(None)
        if is_006:
            p.len = _MESSAGE_006
            until = now + privilege_lifetime
            ts = now + lifetime
            if until > 0xFFFFFFFF or ts > 0xFFFFFFFF:
                raise _range_error("ts", 0xFFFFFFFF)
            _reserve(&p, 8)
            _put32(&p, sa)
            _put32(&p, <uint32_t>ts)
            _pack_privileges_until(&p, ids, <uint32_t>until)
            return _seal_006(&p, app_id, app_certificate, channel, chlen, digits, uidlen)
        p.len = 34  # room for string(signature)
        _pack_text(&p, app_id, "app_id")
        _put_007_times(&p, <uint32_t>now, lifetime, sa, 1)  # one service
        _reserve(&p, 2)
        _put16(&p, <unsigned int>service_type)
        _pack_privileges_until(&p, ids, privilege_lifetime)
        _pack_bytes(&p, channel, chlen, "service field")
        _pack_bytes(&p, digits, uidlen, "service field")
        return _seal_007(&p, app_certificate, <uint32_t>now, sa)
    finally:
        if p.heap:
            free(p.data)


# ------------------------------------------------------------------------------------ many tokens

cdef enum:
    EACH_BLOCK = 256  # tokens sealed per GIL release in build_007_each (bounds its buffers)


def build_007_each(app_id, app_certificate, issue_ts, expire, service_type, privileges, channel_name, uids):
    """One 007 token per wire uid of ``uids``: service ``(service_type, privileges, (channel_name,
    uid))``, a fresh salt each; blocks of tokens are packed, signed, deflated and base64-encoded
    without the GIL, so threads building many tokens rarely wait for it."""
    cdef tuple users = tuple(uids)
    cdef Py_ssize_t n = len(users), start, count, i, uidlen, longest = 0
    cdef Packer head, tail
    cdef unsigned char head_stack[256]
    cdef unsigned char tail_stack[256]
    cdef uint32_t ts, ex
    cdef Py_ssize_t certlen, chlen
    cdef const char* cert
    cdef const char* channel
    cdef const char** uid_data = NULL
    cdef size_t* uid_len = NULL
    cdef unsigned char* packed = NULL
    cdef unsigned char* sealed = NULL
    cdef unsigned char* text = NULL
    cdef size_t* text_len = NULL
    cdef size_t packed_cap, bound, text_cap, outlen
    cdef int rc = 0
    cdef uint32_t sa
    cdef list tokens = []
    if _DEFLATE_WITH_PYTHON:  # the zlib module deflates: token by token, as build_007 does
        return [build_007(app_id, app_certificate, issue_ts, expire, None,
                          ((service_type, privileges, (channel_name, uid)),)) for uid in users]
    head.data, head.len, head.cap, head.heap = head_stack, 0, 256, False
    tail.data, tail.len, tail.cap, tail.heap = tail_stack, 0, 256, False
    try:
        # signing info = string(app_id) u32 ts u32 expire | u32 salt | u16 1, u16 type, privileges,
        # string(channel) | string(uid): everything but the salt and the uid is packed once.
        _pack_text(&head, app_id, "app_id")
        ts = _now_plus(issue_ts, 0, "issue_ts")
        ex = _u32(expire, "expire")
        _reserve(&head, 8)
        _put32(&head, ts)
        _put32(&head, ex)
        _reserve(&tail, 4)
        _put16(&tail, 1)
        _put16(&tail, <unsigned int>_u16(service_type, "service type"))
        _pack_privileges(&tail, privileges)
        channel = _utf8(channel_name, &chlen, "channel_name")
        _pack_bytes(&tail, channel, chlen, "service field")  # as _pure's build_007 calls it
        cert = _utf8(app_certificate, &certlen, "app_certificate")
        uid_data = <const char**>malloc(max(n, 1) * sizeof(const char*))
        uid_len = <size_t*>malloc(max(n, 1) * sizeof(size_t))
        if uid_data == NULL or uid_len == NULL:
            raise MemoryError()
        for i in range(n):  # every uid is a str before any is measured, as in _pure
            uid_data[i] = _utf8(users[i], &uidlen, "uid")
            uid_len[i] = <size_t>uidlen
        for i in range(n):
            if uid_len[i] > 0xFFFF:
                raise _length_error("service field")
            longest = max(longest, <Py_ssize_t>uid_len[i])
        packed_cap = 34 + head.len + 4 + tail.len + 2 + <size_t>longest
        bound = fp_deflate_bound(packed_cap)
        text_cap = FP_B64LEN(bound)
        packed = <unsigned char*>malloc(packed_cap)
        sealed = <unsigned char*>malloc(bound)
        text = <unsigned char*>malloc(EACH_BLOCK * text_cap)
        text_len = <size_t*>malloc(EACH_BLOCK * sizeof(size_t))
        if packed == NULL or sealed == NULL or text == NULL or text_len == NULL:
            raise MemoryError()
        for start in range(0, n, EACH_BLOCK):
            count = min(<Py_ssize_t>EACH_BLOCK, n - start)
            with nogil:
                for i in range(count):
                    if fp_random_salt(&sa) != 0:
                        rc = -100
                        break
                    rc = _seal_each(packed, &head, sa, &tail, uid_data[start + i], uid_len[start + i],
                                    cert, <size_t>certlen, ts, sealed, bound, &outlen)
                    if rc != 0:
                        break
                    fp_b64encode(sealed, outlen, text + i * text_cap)
                    text_len[i] = FP_B64LEN(outlen)
            if rc == -100:
                raise OSError("the operating system gave no random bytes")
            if rc == -1:
                raise MemoryError()
            if rc != 0:
                raise RuntimeError("zlib/OpenSSL failed to seal the token")
            for i in range(count):
                tokens.append(_ascii_token("007", 3, <const char*>(text + i * text_cap),
                                           <Py_ssize_t>text_len[i], NULL, 0))
        return tokens
    finally:
        free(uid_data)
        free(uid_len)
        free(packed)
        free(sealed)
        free(text)
        free(text_len)
        if head.heap:
            free(head.data)
        if tail.heap:
            free(tail.data)


cdef inline int _seal_each(unsigned char* packed, Packer* head, uint32_t sa, Packer* tail,
                           const char* uid, size_t uidlen, const char* cert, size_t certlen, uint32_t ts,
                           unsigned char* out, size_t bound, size_t* outlen) noexcept nogil:
    """Assemble one token's content in ``packed`` (34 bytes of room, head, salt, tail, string(uid))
    and seal it into ``out``; fp_seal_007's return code."""
    cdef Packer p
    p.data, p.len, p.cap, p.heap = packed, 34, 0, False
    memcpy(p.data + p.len, head.data, head.len)
    p.len += head.len
    _put32(&p, sa)
    memcpy(p.data + p.len, tail.data, tail.len)
    p.len += tail.len
    _put16(&p, <unsigned int>uidlen)
    memcpy(p.data + p.len, uid, uidlen)
    p.len += uidlen
    return fp_seal_007(cert, certlen, ts, sa, p.data, p.len, out, bound, outlen)


def random_salt():
    """A fresh salt in 1..99999999 from the OS CSPRNG."""
    cdef uint32_t value
    if fp_random_salt(&value) != 0:
        raise OSError("the operating system gave no random bytes")
    return PyLong_FromUnsignedLong(value)


# ------------------------------------------------------------------------------------ parsing

cdef struct Reader:
    const unsigned char* data
    size_t len
    size_t pos


cdef int _truncated(const char* what) except -1:
    raise TokenError(f"token is truncated: {what.decode('ascii')} runs past the end of the payload")


cdef inline const unsigned char* _take(Reader* r, size_t size, const char* what) except NULL:
    cdef const unsigned char* chunk
    if size > r.len - r.pos:
        _truncated(what)
    chunk = r.data + r.pos
    r.pos += size
    return chunk


cdef inline int _read_u16(Reader* r, const char* what) except -1:
    cdef const unsigned char* c = _take(r, 2, what)
    return c[0] | (c[1] << 8)


cdef inline int _read_i16(Reader* r, const char* what) except -100000:
    cdef const unsigned char* c = _take(r, 2, what)
    cdef int v = c[0] | (c[1] << 8)
    return v - 0x10000 if v >= 0x8000 else v


cdef inline long long _read_u32(Reader* r, const char* what) except -1:
    cdef const unsigned char* c = _take(r, 4, what)
    return <long long>(c[0] | (c[1] << 8) | (c[2] << 16) | (<uint32_t>c[3] << 24))


cdef bytes _read_raw(Reader* r, const char* what):
    cdef int size = _read_u16(r, what)
    cdef const unsigned char* data = _take(r, <size_t>size, what)
    return PyBytes_FromStringAndSize(<const char*>data, size)


cdef str _read_text(Reader* r, const char* what):
    cdef int size = _read_u16(r, what)
    cdef const unsigned char* data = _take(r, <size_t>size, what)
    try:
        return PyUnicode_DecodeUTF8(<const char*>data, size, NULL)
    except UnicodeDecodeError:
        raise TokenError(f"{what.decode('ascii')} is not valid UTF-8") from None


cdef tuple _read_privileges(Reader* r):
    cdef int count = _read_u16(r, "privilege count")
    cdef size_t left = r.len - r.pos
    cdef size_t whole = left // 6
    cdef tuple result, pair
    cdef int i
    if <size_t>count > whole:
        # the same error _Reader raises at the first pair that runs short
        if left - whole * 6 < 2:
            _truncated("privilege id")
        _truncated("privilege value")
    result = PyTuple_New(count)
    for i in range(count):
        pair = (_read_u16(r, "privilege id"), _read_u32(r, "privilege value"))
        Py_INCREF(pair)
        PyTuple_SET_ITEM(result, i, pair)
    return result


cdef tuple _read_fields(Reader* r, object codes):
    cdef list fields = []
    cdef Py_ssize_t i, n
    cdef Py_UCS4 code
    cdef int resource_types, permission_types, resources, a, b, c
    if PyUnicode_Check(codes):
        n = PyUnicode_GET_LENGTH(codes)
    else:
        codes = tuple(codes)
        n = len(<tuple>codes)
    for i in range(n):
        if PyUnicode_Check(codes):
            code = PyUnicode_READ_CHAR(codes, i)
        else:
            item = (<tuple>codes)[i]
            code = 115 if item == "s" else (104 if item == "h" else 112)
        if code == 115:  # "s"
            fields.append(_read_text(r, "service field"))
        elif code == 104:  # "h"
            fields.append(_read_i16(r, "service field"))
        else:  # "p": RTM2 permissions
            resource_types = _read_u16(r, "permission count")
            fields.append(resource_types)
            for a in range(resource_types):
                fields.append(_read_u16(r, "resource type"))
                permission_types = _read_u16(r, "permission count")
                fields.append(permission_types)
                for b in range(permission_types):
                    fields.append(_read_u16(r, "permission type"))
                    resources = _read_u16(r, "resource count")
                    fields.append(resources)
                    for c in range(resources):
                        fields.append(_read_text(r, "resource"))
    return tuple(fields)


cdef int _check_str(object token) except -1:
    if not PyUnicode_Check(token):
        raise TokenError(f"token must be a str, not {type(token).__name__}")
    fp_unicode_ready(token)
    return 0


cdef bint _starts(object token, const char* prefix):
    return (PyUnicode_GET_LENGTH(token) >= 3 and PyUnicode_READ_CHAR(token, 0) == <Py_UCS4>prefix[0]
            and PyUnicode_READ_CHAR(token, 1) == <Py_UCS4>prefix[1]
            and PyUnicode_READ_CHAR(token, 2) == <Py_UCS4>prefix[2])


def parse_007(token, layouts):
    """Decode a 007 token.

    Returns ``(signature, signing_info, app_id, issue_ts, expire, salt, services)``; ``services`` is a
    list of ``(type, privileges, fields)`` read until the end or the first type not in ``layouts``.
    """
    cdef unsigned char dstack[STACK_DECODE]
    cdef unsigned char istack[STACK_INFLATE]
    cdef unsigned char* content = istack
    cdef size_t size = 0, body_len
    cdef const unsigned char* body
    cdef int rc, count, i
    cdef Reader r
    _check_str(token)
    if PyUnicode_GET_LENGTH(token) > _MAX_TOKEN_LENGTH:
        raise TokenError(_TOO_LONG)
    if not _starts(token, "007"):
        raise TokenError("not a 007 token: it does not start with '007'")
    if not PyUnicode_IS_ASCII(token):
        raise TokenError(_BASE64_ERROR)
    body = <const unsigned char*>PyUnicode_DATA(token) + 3
    body_len = <size_t>PyUnicode_GET_LENGTH(token) - 3
    if body_len >= NOGIL_PARSE:
        with nogil:
            rc = fp_unpack_007(body, body_len, dstack, STACK_DECODE, istack, STACK_INFLATE, &content, &size)
    else:
        rc = fp_unpack_007(body, body_len, dstack, STACK_DECODE, istack, STACK_INFLATE, &content, &size)
    if rc != FP_INF_OK:
        if rc == -1:
            raise TokenError(_BASE64_ERROR)
        if rc == -2 or rc == FP_INF_NOMEM:
            raise MemoryError()
        if rc == FP_INF_INVALID:
            raise TokenError("token body is not a valid zlib stream")
        if rc == FP_INF_TOO_BIG:
            raise TokenError(f"token payload inflates past {MAX_PAYLOAD} bytes")
        if rc == FP_INF_TRUNCATED:
            raise TokenError("token body is a truncated zlib stream")
        raise TokenError("token body has data after its zlib stream")
    try:
        r.data = content
        r.len = size
        r.pos = 0
        signature = _read_raw(&r, "signature")
        signing_info = PyBytes_FromStringAndSize(<const char*>content + r.pos, <Py_ssize_t>(size - r.pos))
        app_id = _read_text(&r, "app id")
        issue_ts = _read_u32(&r, "issue_ts")
        expire = _read_u32(&r, "expire")
        salt = _read_u32(&r, "salt")
        services = []
        count = _read_u16(&r, "service count")
        is_dict = type(layouts) is dict
        for i in range(count):
            service_type = _read_u16(&r, "service type")
            if is_dict:
                codes = (<dict>layouts).get(service_type)
            else:
                codes = layouts.get(service_type)
            if codes is None:
                break  # its length is unknown, so nothing after it can be read (SPEC §3.8)
            privileges = _read_privileges(&r)
            services.append((service_type, privileges, _read_fields(&r, codes)))
        return signature, signing_info, app_id, issue_ts, expire, salt, services
    finally:
        if content != istack:
            free(content)


def parse_006(token):
    """Decode a 006 token.

    Returns ``(app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges)``; ``message``
    is the raw signed bytes.
    """
    cdef unsigned char dstack[STACK_DECODE]
    cdef unsigned char* content = dstack
    cdef size_t size = 0, body_len
    cdef Py_ssize_t n, i
    cdef const unsigned char* body
    cdef int rc
    cdef Reader r, inner
    cdef bytes message
    _check_str(token)
    if PyUnicode_GET_LENGTH(token) > _MAX_TOKEN_LENGTH:
        raise TokenError(_TOO_LONG)
    if not _starts(token, "006"):
        raise TokenError("not a 006 token: it does not start with '006'")
    n = PyUnicode_GET_LENGTH(token)
    if n < 35:
        raise TokenError("006 token is too short to hold a 32-character app id")
    if not PyUnicode_IS_ASCII(token):
        for i in range(3, 35):
            if PyUnicode_READ_CHAR(token, i) > 127:
                raise TokenError("006 token is too short to hold a 32-character app id")
        raise TokenError(_BASE64_ERROR)
    body = <const unsigned char*>PyUnicode_DATA(token) + 35
    body_len = <size_t>(n - 35)
    if body_len // 4 * 3 > STACK_DECODE:
        content = <unsigned char*>malloc(body_len // 4 * 3)
        if content == NULL:
            raise MemoryError()
    try:
        if body_len >= NOGIL_PARSE:
            with nogil:
                rc = fp_b64decode(body, body_len, content, &size)
        else:
            rc = fp_b64decode(body, body_len, content, &size)
        if rc < 0:
            raise TokenError(_BASE64_ERROR)
        r.data = content
        r.len = size
        r.pos = 0
        signature = _read_raw(&r, "signature")
        crc_channel = _read_u32(&r, "channel CRC")
        crc_uid = _read_u32(&r, "uid CRC")
        message = _read_raw(&r, "message")
        inner.data = <const unsigned char*>PyBytes_AS_STRING(message)
        inner.len = <size_t>PyBytes_GET_SIZE(message)
        inner.pos = 0
        salt = _read_u32(&inner, "salt")
        ts = _read_u32(&inner, "ts")
        privileges = _read_privileges(&inner)
        return (PyUnicode_Substring(token, 3, 35), signature, crc_channel, crc_uid, message, salt, ts,
                privileges)
    finally:
        if content != dstack:
            free(content)
