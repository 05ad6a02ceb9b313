/* Differential test of fp_deflate against the zlib it is linked with (see tools/deflate_diff.sh).
 *
 *   deflate_diff [COUNT [SEED]]
 *
 * Runs COUNT inputs (default 10,000,000) of several kinds, each compared byte for byte with
 * compress2(level 6); the first mismatch is written to deflate_mismatch.bin and ends the run with
 * status 1. Kinds: 007 token payloads with random fields (and mutations of them), uniform random
 * bytes, low-entropy data (few symbols, skewed frequencies, long runs, periodic text), and a sweep
 * over every length 0..FPD_MAX_INPUT of each kind. Prints counts per kind and per decision path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fp_deflate.h"

#include "splitmix.h"

static size_t put16(uint8_t *p, size_t o, unsigned v) { p[o] = (uint8_t)v; p[o + 1] = (uint8_t)(v >> 8); return o + 2; }
static size_t put32(uint8_t *p, size_t o, uint32_t v) { o = put16(p, o, v & 0xffff); return put16(p, o, v >> 16); }
static size_t put_str(uint8_t *p, size_t o, const char *s, size_t n) { o = put16(p, o, (unsigned)n); memcpy(p + o, s, n); return o + n; }

static void hex(char *s, size_t n, int upper) {
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) s[i] = d[below(16)];
}

/* A 007 payload: string(signature) + string(app id) u32 ts u32 expire u32 salt u16 count, then
   services (u16 type, map<u16,u32> privileges, their strings). */
static size_t token_payload(uint8_t *p, size_t cap) {
    char buf[600];
    size_t o = 0, i;
    unsigned services = 1 + below(below(4) == 0 ? 10 : 2), s;
    uint32_t ts = 1600000000u + (uint32_t)below(200000000u);
    o = put16(p, o, 32);
    for (i = 0; i < 32; i++) p[o++] = (uint8_t)rnd();
    hex(buf, 32, below(8) == 0);
    o = put_str(p, o, buf, 32);
    o = put32(p, o, ts);
    o = put32(p, o, below(3) == 0 ? (uint32_t)rnd() : 600 + below(86400));
    o = put32(p, o, 1 + below(99999999));
    o = put16(p, o, services);
    for (s = 0; s < services && o + 700 < cap; s++) {
        unsigned type = 1 + below(10), privs = below(5), k, strings = type == 1 ? 2 : below(3);
        uint32_t exp = below(2) ? ts + 3600 : (uint32_t)below(100000);
        o = put16(p, o, type);
        o = put16(p, o, privs);
        for (k = 0; k < privs; k++) {
            o = put16(p, o, 1 + k + below(2));
            o = put32(p, o, below(4) ? exp : (uint32_t)rnd());
        }
        for (k = 0; k < strings; k++) {
            size_t len;
            switch (below(5)) {
            case 0: len = (size_t)snprintf(buf, sizeof buf, "%u", (unsigned)below(4000000000u)); break;
            case 1: len = below(65); hex(buf, len, 0); break;
            case 2: len = 4; memcpy(buf, "room", 4); break;
            case 3: len = 0; break;
            default: {
                size_t j;
                len = below(below(6) == 0 ? 512 : 40);
                for (j = 0; j < len; j++) buf[j] = (char)(32 + below(95));
            }
            }
            o = put_str(p, o, buf, len);
        }
    }
    return o;
}

/* Low-entropy bytes: k symbols with skewed (geometric-ish or Fibonacci-like) weights, runs. */
static void skewed(uint8_t *p, size_t n) {
    unsigned k = 1 + below(below(2) ? 4 : 40), i;
    uint8_t alpha[64];
    unsigned weight[64], total = 0, mode = below(4);
    size_t j = 0;
    for (i = 0; i < k; i++) {
        alpha[i] = (uint8_t)(below(3) == 0 ? i : rnd());
        weight[i] = mode == 0 ? 1u << (i < 20 ? i : 20) : mode == 1 ? 1 + below(1000) : mode == 2 ? (i < 25 ? (unsigned)(1u << 25) >> i : 1) : 1;
        total += weight[i];
    }
    while (j < n) {
        unsigned r = below(total), c = 0;
        size_t run = below(8) == 0 ? 1 + below(below(4) == 0 ? 300 : 12) : 1;
        while (r >= weight[c]) r -= weight[c++];
        while (run-- && j < n) p[j++] = alpha[c];
    }
}

static void periodic(uint8_t *p, size_t n) {
    size_t period = 1 + below(below(2) ? 8 : 300), j;
    uint8_t unit[300];
    for (j = 0; j < period; j++) unit[j] = (uint8_t)(below(2) ? 'a' + below(4) : rnd());
    for (j = 0; j < n; j++) {
        p[j] = unit[j % period];
        if (below(64) == 0) p[j] = (uint8_t)rnd(); /* sparse noise breaks matches */
    }
}

static void mutate(uint8_t *p, size_t *n, size_t cap) {
    unsigned m = 1 + below(4);
    while (m--) {
        size_t len = *n;
        if (len < 2) return;
        switch (below(4)) {
        case 0: p[below((unsigned)len)] = (uint8_t)rnd(); break;
        case 1: { /* copy a span earlier in the input to a later place (new matches) */
            size_t from = below((unsigned)len), to = below((unsigned)len), k = 3 + below(300);
            if (from + k > len) k = len - from;
            if (to + k > cap) k = cap - to;
            memmove(p + to, p + from, k);
            if (to + k > *n) *n = to + k;
            break;
        }
        case 2: *n = below((unsigned)len); break;
        default: { /* append a run */
            size_t k = below(400);
            uint8_t c = (uint8_t)rnd();
            while (k-- && *n < cap) p[(*n)++] = c;
        }
        }
    }
}

static z_stream zs;
static unsigned char zout[FPD_MAX_INPUT + 1024], fout[FPD_MAX_INPUT + 1024];
static unsigned long long paths[64], kind_trees[8], kinds_count[8], total, fresh;

static int check(const uint8_t *in, size_t n, int kind) {
    size_t flen = 0, zlen;
    int rc;
    if (total % 64 == 0) { /* now and then a brand-new stream, as compress2 would use */
        uLongf dl = sizeof zout;
        if (compress2(zout, &dl, in, (uLong)n, 6) != Z_OK) { fprintf(stderr, "compress2 failed\n"); exit(2); }
        zlen = dl;
        fresh++;
    } else {
        deflateReset(&zs);
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)n;
        zs.next_out = zout;
        zs.avail_out = sizeof zout;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) { fprintf(stderr, "deflate failed\n"); exit(2); }
        zlen = sizeof zout - zs.avail_out;
    }
    rc = fpd_compress(in, n, fout, FPD_BOUND(n), &flen);
    total++;
    kinds_count[kind]++;
    paths[fpd_last_path() & 63]++;
    if (fpd_last_path() & FPD_PATH_TREES) kind_trees[kind]++;
    if (rc != FPD_OK || flen != zlen || memcmp(fout, zout, zlen) != 0) {
        FILE *f = fopen("deflate_mismatch.bin", "wb");
        if (f) { fwrite(in, 1, n, f); fclose(f); }
        fprintf(stderr, "MISMATCH: kind %d, %zu bytes (rc %d, ours %zu, zlib %zu), written to deflate_mismatch.bin\n",
                kind, n, rc, flen, zlen);
        return 1;
    }
    return 0;
}

static const char *KIND[] = {"token payload", "mutated token", "random bytes", "skewed/runs", "periodic", "length sweep"};

int main(int argc, char **argv) {
    unsigned long long count = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ull, i;
    static uint8_t buf[FPD_MAX_INPUT + 1024];
    size_t n, len;
    int k;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 14;
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 2;
    {   /* edge cases */
        if (check(buf, 0, 5)) return 1;
        memset(buf, 'a', FPD_MAX_INPUT);
        for (n = 1; n <= FPD_MAX_INPUT; n++) if (check(buf, n, 5)) return 1;
    }
    /* every length, each kind */
    for (len = 0; len <= FPD_MAX_INPUT && total < count; len++) {
        size_t j;
        for (j = 0; j < len; j++) buf[j] = (uint8_t)rnd();
        if (check(buf, len, 5)) return 1;
        skewed(buf, len);
        if (check(buf, len, 5)) return 1;
        periodic(buf, len);
        if (check(buf, len, 5)) return 1;
        n = token_payload(buf, sizeof buf);
        if (n > len) n = len;
        if (check(buf, n, 5)) return 1;
    }
    for (i = total; i < count; i++) {
        unsigned r = below(100);
        if (r < 40) {
            n = token_payload(buf, sizeof buf);
            k = 0;
        } else if (r < 55) {
            n = token_payload(buf, sizeof buf);
            mutate(buf, &n, FPD_MAX_INPUT);
            k = 1;
        } else if (r < 70) {
            size_t j;
            n = below(4) ? below(600) : below(FPD_MAX_INPUT + 1);
            for (j = 0; j < n; j++) buf[j] = (uint8_t)rnd();
            k = 2;
        } else if (r < 90) {
            n = below(4) ? below(600) : below(FPD_MAX_INPUT + 1);
            skewed(buf, n);
            k = 3;
        } else {
            n = below(4) ? below(600) : below(FPD_MAX_INPUT + 1);
            periodic(buf, n);
            k = 4;
        }
        if (n > FPD_MAX_INPUT) n = FPD_MAX_INPUT;
        if (check(buf, n, k)) return 1;
    }
    printf("zlib %s, FPD_MAX_INPUT %d: %llu inputs, 0 mismatches (%llu on a fresh compress2 stream)\n",
           zlibVersion(), FPD_MAX_INPUT, total, fresh);
    for (k = 0; k < 6; k++) printf("  %-14s %10llu  (trees built for %llu)\n", KIND[k], kinds_count[k], kind_trees[k]);
    printf("  decided by the cheap bound: stored %llu, fixed %llu; by the shape bound: stored %llu, fixed %llu;\n"
           "  by the trees: stored %llu, fixed %llu, dynamic %llu\n",
           paths[FPD_PATH_BOUND | FPD_PATH_STORED], paths[FPD_PATH_BOUND | FPD_PATH_FIXED],
           paths[FPD_PATH_SHAPE | FPD_PATH_STORED], paths[FPD_PATH_SHAPE | FPD_PATH_FIXED],
           paths[FPD_PATH_TREES | FPD_PATH_STORED], paths[FPD_PATH_TREES | FPD_PATH_FIXED],
           paths[FPD_PATH_TREES | FPD_PATH_DYNAMIC]);
    deflateEnd(&zs);
    return 0;
}
