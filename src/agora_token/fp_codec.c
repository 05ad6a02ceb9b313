/* fp_codec.c: CRC-32, deflate/inflate glue over zlib, base64 (see fp_codec.h). */
#include "fp_codec.h"
#include "fp_deflate.h"
#include "fp_state.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

int fp_exact_deflate = 0;

/* ---------------------------------------------------------------- CRC-32 */
uint32_t fp_crc32(const char *data, size_t len) {
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

/* ---------------------------------------------------------------- z_streams, deflate */
size_t fp_deflate_bound(size_t n) {
    if (n > (size_t)(ULONG_MAX / 2) || n > ((size_t)-1) / 2) return n + n / 2 + 64;
    return (size_t)deflateBound(NULL, (uLong)n) + 16;
}

static fp_status fp_deflate_init(z_stream *zs) {
    int rc;
    memset(zs, 0, sizeof *zs);
    rc = deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    if (rc == Z_OK) return FP_OK;
    return rc == Z_MEM_ERROR ? FP_ENOMEM : FP_EZLIB;
}

static fp_status fp_inflate_init(z_stream *zs) {
    int rc;
    memset(zs, 0, sizeof *zs);
    rc = inflateInit2(zs, MAX_WBITS);
    if (rc == Z_OK) return FP_OK;
    return rc == Z_MEM_ERROR ? FP_ENOMEM : FP_EZLIB;  /* our zlib failed, not the token */
}

/* The z_stream a call uses, ready for a new stream: the thread's own (initialised on first use,
   reset after), or without thread state `local`, initialised here (the caller ends it). NULL with
   *st set when it cannot be had. */
static z_stream *fp_stream(fp_tls *t, int inflating, z_stream *local, fp_status *st) {
    z_stream *zs = local;
    int *ready = NULL;
    if (t != NULL) {
        zs = inflating ? &t->inf : &t->def;
        ready = inflating ? &t->inf_ready : &t->def_ready;
        if (*ready) {
            if ((inflating ? inflateReset(zs) : deflateReset(zs)) == Z_OK) return zs;
            *st = FP_EZLIB;  /* a reset that fails is zlib's failure, never the token's */
            return NULL;
        }
    }
    *st = inflating ? fp_inflate_init(zs) : fp_deflate_init(zs);
    if (*st != FP_OK) return NULL;
    if (ready != NULL) *ready = 1;
    return zs;
}

/* The input is fed in UINT_MAX chunks with Z_FINISH on the last one, exactly as CPython does. */
fp_status fp_deflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen) {
    z_stream local, *zs;
    fp_status st;
    int rc, flush;
    size_t in_left = n, out_left = cap;
    if (fp_exact_deflate && n <= FPD_MAX_INPUT && fpd_compress(in, n, out, cap, outlen) == FPD_OK) return FP_OK;
    if ((zs = fp_stream(fp_tls_get(), 0, &local, &st)) == NULL) return st;
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
    return rc == Z_STREAM_END ? FP_OK : FP_EZLIB;
}

/* ---------------------------------------------------------------- inflate */

fp_status fp_inflate(const unsigned char *in, size_t n, unsigned char *stackbuf, size_t stackcap,
                     unsigned char **out, size_t *outlen) {
    z_stream local, *zs;
    unsigned char *buf = stackbuf;
    size_t cap = stackcap < FP_MAX_PAYLOAD ? stackcap : FP_MAX_PAYLOAD;
    size_t in_left = n, used;
    int err = Z_OK;
    fp_status status;
    *out = stackbuf;
    *outlen = 0;
    if ((zs = fp_stream(fp_tls_get(), 1, &local, &status)) == NULL) return status;
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
                if (grown == NULL) { status = FP_ENOMEM; goto done; }
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
        status = (zs->avail_in > 0 || in_left > 0) ? FP_ETRAILING : FP_OK;
    else if (err != Z_OK && err != Z_BUF_ERROR)
        status = FP_EZSTREAM;
    else if (zs->avail_in > 0 || in_left > 0)
        status = FP_ETOOBIG;   /* input left over when the output limit was reached */
    else
        status = FP_ETRUNCATED;
done:
    *outlen = (size_t)(zs->next_out - buf);
    *out = buf;
    if (zs == &local) inflateEnd(zs);
    zs->next_in = NULL;
    zs->next_out = NULL;
    if (status != FP_OK && buf != stackbuf) {
        free(buf);
        *out = stackbuf;
        *outlen = 0;
    }
    return status;
}

/* ---------------------------------------------------------------- base64 */
static const unsigned char fp_b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The two characters of every 12-bit value, so a 3-byte group is encoded with two lookups instead
   of four (a token's base64 is a fifth of what its signing costs, before SHA extensions). Written
   out by the preprocessor from the alphabet's rule: a constant table, shared by every thread. */
#define FP_B64C(v) ((v) < 26 ? 'A' + (v) : (v) < 52 ? 'a' + (v) - 26 : (v) < 62 ? '0' + (v) - 52 : (v) == 62 ? '+' : '/')
#define FP_B64P(i) {(unsigned char)FP_B64C((i) >> 6), (unsigned char)FP_B64C((i) & 63)}
#define FP_B64P4(i) FP_B64P(i), FP_B64P((i) + 1), FP_B64P((i) + 2), FP_B64P((i) + 3)
#define FP_B64P16(i) FP_B64P4(i), FP_B64P4((i) + 4), FP_B64P4((i) + 8), FP_B64P4((i) + 12)
#define FP_B64P64(i) FP_B64P16(i), FP_B64P16((i) + 16), FP_B64P16((i) + 32), FP_B64P16((i) + 48)
#define FP_B64P256(i) FP_B64P64(i), FP_B64P64((i) + 64), FP_B64P64((i) + 128), FP_B64P64((i) + 192)
#define FP_B64P1024(i) FP_B64P256(i), FP_B64P256((i) + 256), FP_B64P256((i) + 512), FP_B64P256((i) + 768)
static const unsigned char fp_b64_pairs[4096][2] = {
    FP_B64P1024(0), FP_B64P1024(1024), FP_B64P1024(2048), FP_B64P1024(3072)
};
#undef FP_B64P1024
#undef FP_B64P256
#undef FP_B64P64
#undef FP_B64P16
#undef FP_B64P4
#undef FP_B64P
#undef FP_B64C

void fp_b64encode(const unsigned char *in, size_t n, unsigned char *out) {
    const unsigned char *a = fp_b64_alphabet;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        memcpy(out, fp_b64_pairs[v >> 12], 2);
        memcpy(out + 2, fp_b64_pairs[v & 0xFFF], 2);
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

/* Leftover bits of a padded group are ignored, as binascii does. */
fp_status fp_b64decode(const unsigned char *in, size_t n, unsigned char *out, size_t *outlen) {
    const unsigned char *v = fp_b64_values;
    size_t groups, g, o = 0;
    *outlen = 0;
    if (n % 4) return FP_EBASE64;
    groups = n / 4;
    for (g = 0; g < groups; g++, in += 4) {
        unsigned a = v[in[0]], b = v[in[1]], c, d;
        if (g + 1 == groups && in[3] == '=') {
            if (in[2] == '=') {
                if ((a | b) > 63) return FP_EBASE64;
                out[o++] = (unsigned char)((a << 2) | (b >> 4));
            } else {
                c = v[in[2]];
                if ((a | b | c) > 63) return FP_EBASE64;
                out[o++] = (unsigned char)((a << 2) | (b >> 4));
                out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
            }
            break;
        }
        c = v[in[2]];
        d = v[in[3]];
        if ((a | b | c | d) > 63) return FP_EBASE64;
        out[o++] = (unsigned char)((a << 2) | (b >> 4));
        out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
        out[o++] = (unsigned char)(((c & 3) << 6) | d);
    }
    *outlen = o;
    return FP_OK;
}

fp_status fp_unpack_007(const unsigned char *body, size_t n, unsigned char *dstack, size_t dcap,
                        unsigned char *istack, size_t icap, unsigned char **out, size_t *outlen) {
    unsigned char *dbuf = dstack;
    size_t dlen;
    fp_status st;
    *out = istack;
    *outlen = 0;
    if (n / 4 * 3 > dcap) {
        dbuf = (unsigned char *)malloc(n / 4 * 3);
        if (dbuf == NULL) return FP_ENOMEM;
    }
    st = fp_b64decode(body, n, dbuf, &dlen);
    if (st == FP_OK) st = fp_inflate(dbuf, dlen, istack, icap, out, outlen);
    if (dbuf != dstack) free(dbuf);
    return st;
}
