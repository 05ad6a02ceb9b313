/* fp_deflate.c: zlib's level-6 deflate for small one-shot inputs (see fp_deflate.h).
 *
 * Written from the DEFLATE format (RFC 1950/1951) and from the behaviour of zlib's deflate.c and
 * trees.c, which an exact re-implementation has to reproduce decision for decision:
 *
 * Matching (zlib's "lazy" matcher, level 6 parameters: good 8, lazy 16, nice 128, chain 128).
 *   Every position p <= n-3 is entered, in order, into chains keyed by a 15-bit hash of the three
 *   bytes at p; position 0 is entered too but can never be a candidate, 0 meaning "empty". At each
 *   position the chain is searched (newest candidate first) only while the match pending from the
 *   previous position is shorter than 16; the search examines at most 128 candidates, 32 once the
 *   pending match is 8 or longer, stops at the first candidate reaching 128 or the bytes left, and
 *   keeps the first of equally long candidates. A candidate must beat the pending match. A length-3
 *   match farther than 4096 bytes is not taken. The pending match is emitted when the new one is
 *   not longer, else the previous byte goes out as a literal and the new match becomes pending.
 *
 * Block choice. The whole input is one final block. Its size is worked out three ways, in bits:
 *   fixed code, zlib's dynamic code (its Huffman trees, tie-breaking and length limiting included,
 *   plus the cost of sending the trees), and stored (n + 4 bytes, compared with the others rounded
 *   up to bytes with 3 header bits). Stored wins when it is no larger than both, fixed when it is
 *   no larger than dynamic, dynamic otherwise.
 *
 * Shortcut. Building the trees costs more than everything else for short inputs, and short inputs
 *   nearly always end in a fixed or stored block. A lower bound on the dynamic block (optimal
 *   unlimited Huffman cost of the symbols, which no length-limited tree beats whatever its ties,
 *   plus the least the tree description can cost given which symbols occur) often shows the
 *   dynamic block cannot win; then the trees are not built at all.
 */
#include "fp_deflate.h"

#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define FPD_TLS __declspec(thread)
#elif defined(__GNUC__) || defined(__clang__)
#define FPD_TLS __thread
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define FPD_TLS _Thread_local
#endif

#define HASH_SIZE 32768u
#define HASH_MASK (HASH_SIZE - 1)
#define MIN_MATCH 3u
#define MAX_MATCH 258u
#define GOOD_LENGTH 8u
#define MAX_LAZY 16u
#define NICE_LENGTH 128u
#define MAX_CHAIN 128u
#define TOO_FAR 4096u

#define L_CODES 286
#define D_CODES 30
#define BL_CODES 19
#define END_BLOCK 256
#define NODES (2 * L_CODES + 1)
#define MAX_BITS 15
#define MAX_BL_BITS 7

#if FPD_MAX_INPUT > 16000
#error "FPD_MAX_INPUT must keep every input in one block and inside the window"
#endif

/* TABLES: written by tools/gen_deflate_tables.py */
static const uint8_t T_LEN_CODE[256] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11,
    12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
    16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17,
    18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19,
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
    25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 28,
};
static const uint16_t T_LEN_BASE[29] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28,
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255,
};
static const uint8_t T_LEN_EXTRA[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint8_t T_DIST_LO[256] = {
    0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7,
    8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9,
    10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
};
static const uint8_t T_DIST_HI[256] = {
    0, 0, 16, 17, 18, 18, 19, 19, 20, 20, 20, 20, 21, 21, 21, 21,
    22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 23, 23,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
    29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
    29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
    29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
};
static const uint16_t T_DIST_BASE[30] = {
    0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192,
    256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576,
};
static const uint8_t T_DIST_EXTRA[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};
static const uint16_t T_SLIT_CODE[288] = {
    12, 140, 76, 204, 44, 172, 108, 236, 28, 156, 92, 220,
    60, 188, 124, 252, 2, 130, 66, 194, 34, 162, 98, 226,
    18, 146, 82, 210, 50, 178, 114, 242, 10, 138, 74, 202,
    42, 170, 106, 234, 26, 154, 90, 218, 58, 186, 122, 250,
    6, 134, 70, 198, 38, 166, 102, 230, 22, 150, 86, 214,
    54, 182, 118, 246, 14, 142, 78, 206, 46, 174, 110, 238,
    30, 158, 94, 222, 62, 190, 126, 254, 1, 129, 65, 193,
    33, 161, 97, 225, 17, 145, 81, 209, 49, 177, 113, 241,
    9, 137, 73, 201, 41, 169, 105, 233, 25, 153, 89, 217,
    57, 185, 121, 249, 5, 133, 69, 197, 37, 165, 101, 229,
    21, 149, 85, 213, 53, 181, 117, 245, 13, 141, 77, 205,
    45, 173, 109, 237, 29, 157, 93, 221, 61, 189, 125, 253,
    19, 275, 147, 403, 83, 339, 211, 467, 51, 307, 179, 435,
    115, 371, 243, 499, 11, 267, 139, 395, 75, 331, 203, 459,
    43, 299, 171, 427, 107, 363, 235, 491, 27, 283, 155, 411,
    91, 347, 219, 475, 59, 315, 187, 443, 123, 379, 251, 507,
    7, 263, 135, 391, 71, 327, 199, 455, 39, 295, 167, 423,
    103, 359, 231, 487, 23, 279, 151, 407, 87, 343, 215, 471,
    55, 311, 183, 439, 119, 375, 247, 503, 15, 271, 143, 399,
    79, 335, 207, 463, 47, 303, 175, 431, 111, 367, 239, 495,
    31, 287, 159, 415, 95, 351, 223, 479, 63, 319, 191, 447,
    127, 383, 255, 511, 0, 64, 32, 96, 16, 80, 48, 112,
    8, 72, 40, 104, 24, 88, 56, 120, 4, 68, 36, 100,
    20, 84, 52, 116, 3, 131, 67, 195, 35, 163, 99, 227,
};
static const uint8_t T_SLIT_LEN[288] = {
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8,
};
static const uint16_t T_SDIST_CODE[30] = {
    0, 16, 8, 24, 4, 20, 12, 28, 2, 18, 10, 26, 6, 22, 14, 30,
    1, 17, 9, 25, 5, 21, 13, 29, 3, 19, 11, 27, 7, 23,
};
static const uint8_t T_SDIST_LEN[30] = {
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
};
/* END TABLES */

static const uint8_t T_BL_EXTRA[BL_CODES] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};
/* The order code-length code lengths are sent in (RFC 1951 3.2.7). */
static const uint8_t T_BL_ORDER[BL_CODES] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

#define DIST_CODE(d0) ((d0) < 256 ? T_DIST_LO[(d0)] : T_DIST_HI[(d0) >> 7])

/* ------------------------------------------------------------------------------ thread state */

#ifdef FPD_TLS
static FPD_TLS uint16_t tls_head[HASH_SIZE]; /* all zero between calls */
static FPD_TLS int tls_path;
int fpd_last_path(void) { return tls_path; }
#else
int fpd_last_path(void) { return 0; }
#endif

/* ------------------------------------------------------------------------------ matching */

static unsigned hash3(const uint8_t *p) {
    return (((unsigned)p[0] << 10) ^ ((unsigned)p[1] << 5) ^ (unsigned)p[2]) & HASH_MASK;
}

/* The longest match for the string at `pos` among the chain starting at `cand`, as zlib's search
   finds it: returns the length (at least `best`, never more than `left`), and sets *start to the
   winning candidate only when one beats `best`. */
static unsigned longest_match(const uint8_t *w, unsigned pos, unsigned left, unsigned cand, unsigned best,
                              const uint16_t *prev, unsigned *start) {
    const uint8_t *s = w + pos;
    unsigned tries = best >= GOOD_LENGTH ? MAX_CHAIN >> 2 : MAX_CHAIN;
    unsigned nice = left < NICE_LENGTH ? left : NICE_LENGTH;
    unsigned most = left < MAX_MATCH ? left : MAX_MATCH;
    if (best >= left) {
        /* Nothing can beat the pending match: it reaches the end already. zlib's search may still
           look (at bytes past the end), but what it would find is never used. */
        return left;
    }
    do {
        const uint8_t *c = w + cand;
        if (c[best] == s[best] && c[best - 1] == s[best - 1] && c[0] == s[0] && c[1] == s[1]) {
            unsigned len = 2;
            while (len < most && c[len] == s[len]) len++;
            if (len > best) {
                *start = cand;
                best = len;
                if (len >= nice) break;
            }
        }
        cand = prev[cand];
    } while (cand != 0 && --tries != 0);
    return best;
}

typedef struct {
    uint32_t sym[FPD_MAX_INPUT];  /* literal byte, or distance << 8 | (length - 3) */
    uint16_t prev[FPD_MAX_INPUT]; /* chain links, by position */
    uint16_t lfreq[L_CODES];
    uint16_t dfreq[D_CODES];
    unsigned nsym;
} lz_t;

static void put_literal(lz_t *z, unsigned c) {
    z->sym[z->nsym++] = c;
    z->lfreq[c]++;
}

static void put_match(lz_t *z, unsigned dist, unsigned len) {
    unsigned lc = len - MIN_MATCH, d0 = dist - 1;
    z->sym[z->nsym++] = (uint32_t)dist << 8 | lc;
    z->lfreq[END_BLOCK + 1 + T_LEN_CODE[lc]]++;
    z->dfreq[DIST_CODE(d0)]++;
}

static void lz77(lz_t *z, const uint8_t *w, unsigned n, uint16_t *head) {
    unsigned pos = 0, left = n;
    unsigned match_len = MIN_MATCH - 1, match_start = 0;
    int pending_literal = 0;
    while (left != 0) {
        unsigned cand = 0, prev_len, prev_start;
        if (left >= MIN_MATCH) {
            unsigned h = hash3(w + pos);
            cand = head[h];
            z->prev[pos] = (uint16_t)cand;
            head[h] = (uint16_t)pos;
        }
        prev_len = match_len;
        prev_start = match_start;
        match_len = MIN_MATCH - 1;
        if (cand != 0 && prev_len < MAX_LAZY) {
            match_len = longest_match(w, pos, left, cand, prev_len, z->prev, &match_start);
            if (match_len == MIN_MATCH && pos - match_start > TOO_FAR) match_len = MIN_MATCH - 1;
        }
        if (prev_len >= MIN_MATCH && match_len <= prev_len) {
            /* The pending match (at pos - 1) goes out; the strings it covers enter the chains. */
            unsigned last_insert = pos + left - MIN_MATCH, k = prev_len - 2;
            put_match(z, pos - 1 - prev_start, prev_len);
            left -= prev_len - 1;
            do {
                if (++pos <= last_insert) {
                    unsigned h = hash3(w + pos);
                    z->prev[pos] = head[h];
                    head[h] = (uint16_t)pos;
                }
            } while (--k != 0);
            pending_literal = 0;
            match_len = MIN_MATCH - 1;
            pos++;
        } else if (pending_literal) {
            put_literal(z, w[pos - 1]);
            pos++;
            left--;
        } else {
            pending_literal = 1;
            pos++;
            left--;
        }
    }
    if (pending_literal) put_literal(z, w[pos - 1]);
}

/* ------------------------------------------------------------------------------ bit output */

typedef struct {
    uint8_t *p, *end;
    uint64_t acc;
    unsigned cnt;
} bits_t;

static void put_bits(bits_t *b, unsigned value, unsigned len) {
    b->acc |= (uint64_t)value << b->cnt;
    b->cnt += len;
    if (b->cnt >= 32) {
        /* The caller sized the buffer for the block it chose; this check only guards memory. */
        if (b->end - b->p >= 4) {
            b->p[0] = (uint8_t)b->acc;
            b->p[1] = (uint8_t)(b->acc >> 8);
            b->p[2] = (uint8_t)(b->acc >> 16);
            b->p[3] = (uint8_t)(b->acc >> 24);
        }
        b->p += 4;
        b->acc >>= 32;
        b->cnt -= 32;
    }
}

/* Flushes the bits left, padding the last byte with zeros. */
static void flush_bits(bits_t *b) {
    while (b->cnt > 0) {
        if (b->p < b->end) *b->p = (uint8_t)b->acc;
        b->p++;
        b->acc >>= 8;
        b->cnt = b->cnt > 8 ? b->cnt - 8 : 0;
    }
}

static void put_symbols(bits_t *b, const lz_t *z, const uint16_t *lcode, const uint8_t *llen,
                        const uint16_t *dcode, const uint8_t *dlen) {
    unsigned i;
    for (i = 0; i < z->nsym; i++) {
        uint32_t s = z->sym[i];
        unsigned dist = s >> 8;
        if (dist == 0) {
            put_bits(b, lcode[s], llen[s]);
        } else {
            unsigned lc = s & 0xff, code = T_LEN_CODE[lc], d0 = dist - 1, dc = DIST_CODE(d0);
            put_bits(b, lcode[END_BLOCK + 1 + code], llen[END_BLOCK + 1 + code]);
            if (T_LEN_EXTRA[code]) put_bits(b, lc - T_LEN_BASE[code], T_LEN_EXTRA[code]);
            put_bits(b, dcode[dc], dlen[dc]);
            if (T_DIST_EXTRA[dc]) put_bits(b, d0 - T_DIST_BASE[dc], T_DIST_EXTRA[dc]);
        }
    }
    put_bits(b, lcode[END_BLOCK], llen[END_BLOCK]);
}

/* ------------------------------------------------------------------------------ block sizes */

/* Bits of the symbols under the fixed code, end of block included (zlib's static_len). */
static uint32_t fixed_bits(const lz_t *z) {
    uint32_t bits = 0;
    int i;
    for (i = 0; i < L_CODES; i++) {
        if (z->lfreq[i]) bits += (uint32_t)z->lfreq[i] * (T_SLIT_LEN[i] + (i > END_BLOCK ? T_LEN_EXTRA[i - END_BLOCK - 1] : 0));
    }
    for (i = 0; i < D_CODES; i++) {
        if (z->dfreq[i]) bits += (uint32_t)z->dfreq[i] * (5u + T_DIST_EXTRA[i]);
    }
    return bits;
}

/* The cost in bits of an optimal (length-unlimited) Huffman code for the non-zero counts of f:
   a lower bound on what any Huffman tree zlib builds costs, however it breaks ties, since its tree
   is optimal before length limiting and limiting only adds. 0 for fewer than two symbols. */
static uint32_t huffman_cost(const uint16_t *f, int elems) {
    uint32_t leaf[L_CODES], inner[L_CODES];
    uint16_t small[32];
    uint32_t cost = 0;
    int i, k = 0, nbig = 0, li = 0, qh = 0, qt = 0, step;
    memset(small, 0, sizeof small);
    for (i = 0; i < elems; i++) {
        if (f[i] == 0) continue;
        if (f[i] < 32) {
            small[f[i]]++;
        } else { /* few: sorted by insertion at the top end of leaf[] */
            int j = L_CODES - 1 - nbig++;
            while (j < L_CODES - 1 && leaf[j + 1] < f[i]) {
                leaf[j] = leaf[j + 1];
                j++;
            }
            leaf[j] = f[i];
        }
    }
    for (i = 1; i < 32; i++) {
        unsigned c = small[i];
        while (c--) leaf[k++] = (uint32_t)i;
    }
    for (i = 0; i < nbig; i++) leaf[k++] = leaf[L_CODES - nbig + i];
    if (k < 2) return 0;
    for (step = 0; step < k - 1; step++) {
        uint32_t x, y;
        if (li < k && (qh == qt || leaf[li] <= inner[qh])) x = leaf[li++]; else x = inner[qh++];
        if (li < k && (qh == qt || leaf[li] <= inner[qh])) y = leaf[li++]; else y = inner[qh++];
        inner[qt++] = x + y;
        cost += x + y;
    }
    return cost;
}

/* What is known of the code-length description of one tree before its lengths are: which entries
   0..max_code are non-zero (`used`). Zero runs are coded as zlib codes them, pieces of at most
   138: 1-2 zeros as literal zeros, 3-10 as code 17 (3 extra bits), 11-138 as code 18 (7 extra
   bits). A run of m non-zero lengths starts with a literal length and, as zlib's run coding goes,
   takes m literal lengths when m <= 3 and at least 1 + ceil((m - 1) / 6) symbols (a code 16 repeats
   at most 6) otherwise; in bits at least 1 + ceil((m - 1) / 2) (each entry after the first: one
   bit as a literal, or a share of code 16's 1 + 2 bits over up to 6 entries). */
typedef struct {
    uint32_t zeros, rep17, rep18, nonzero; /* code-length symbols: literal 0, 17, 18, any other */
    uint32_t bits;                         /* the floor in bits, every code at least 1 bit long */
} description_t;

static void describe_floor(const uint8_t *used, int max_code, description_t *d) {
    int i = 0;
    while (i <= max_code) {
        int j = i;
        if (used[i]) {
            unsigned m;
            while (j <= max_code && used[j]) j++;
            m = (unsigned)(j - i);
            d->nonzero += m <= 3 ? m : 1 + (m - 1 + 5) / 6;
            d->bits += 1 + m / 2;
        } else {
            unsigned g, r;
            while (j <= max_code && !used[j]) j++;
            g = (unsigned)(j - i);
            r = g % 138;
            d->rep18 += g / 138 + (r > 10);
            d->rep17 += r >= 3 && r <= 10;
            d->zeros += r < 3 ? r : 0;
            d->bits += (g / 138) * 8 + (r == 0 ? 0 : r < 3 ? r : r <= 10 ? 4 : 8);
        }
        i = j;
    }
}

/* Which entries of a tree of `elems` leaves get a code, zlib's padding of a tree with fewer than
   two symbols included; returns max_code, *count the number of codes. */
static int used_codes(const uint16_t *f, int elems, uint8_t *used, int *count) {
    int i, max_code = -1, k = 0;
    for (i = 0; i < elems; i++) {
        used[i] = f[i] != 0;
        if (used[i]) max_code = i, k++;
    }
    while (k < 2) {
        int node = max_code < 2 ? ++max_code : 0;
        used[node] = 1;
        k++;
    }
    *count = k;
    return max_code;
}

/* Position in the code-length code order (RFC 1951 3.2.7) of code length l, 1..15. */
static const uint8_t T_BL_RANK[16] = {3, 17, 15, 13, 11, 9, 7, 5, 4, 6, 8, 10, 12, 14, 16, 18};

/* The least possible rank of the last code-length code sent, from a tree of k >= 2 codes alone:
   its shortest code is at most floor(log2 k) long and its longest at least ceil(log2 k) (Kraft),
   and every length that occurs is sent at least once as a literal code-length code. */
static int rank_floor(int k) {
    int lo = 0, hi, l, best_lo = 18, best_hi = 18;
    while ((2 << lo) <= k) lo++; /* lo = floor(log2 k) */
    hi = (1 << lo) == k ? lo : lo + 1;
    for (l = 1; l <= lo && l <= MAX_BITS; l++) if (T_BL_RANK[l] < best_lo) best_lo = T_BL_RANK[l];
    for (l = hi < 1 ? 1 : hi; l <= MAX_BITS; l++) if (T_BL_RANK[l] < best_hi) best_hi = T_BL_RANK[l];
    return best_lo > best_hi ? best_lo : best_hi;
}

static uint32_t huffman_cost4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    uint16_t f[4];
    f[0] = (uint16_t)a, f[1] = (uint16_t)b, f[2] = (uint16_t)c, f[3] = (uint16_t)d;
    return huffman_cost(f, 4);
}

/* A lower bound on zlib's opt_len (the dynamic block's bits after its 3 header bits), whatever
   lengths its trees end up with:
     5 + 5 + 4 bits of counts, 3 bits per code-length code length sent (at least 4, and at least up
     to the rank rank_floor shows), the description (the larger of two floors: every code-length
     code at least one bit, or the optimal Huffman cost of the code-length symbols known to occur,
     all the non-zero lengths counted as one symbol, which can only lower it, plus their extra
     bits), the symbols (optimal Huffman cost; exactly 1 bit each for a tree of two codes), and the
     extra bits of lengths and distances. */
static uint32_t dynamic_floor(const lz_t *z, uint32_t extra_bits) {
    uint8_t lused[L_CODES], dused[D_CODES];
    int lcount, dcount, lmax = used_codes(z->lfreq, L_CODES, lused, &lcount);
    int dmax = used_codes(z->dfreq, D_CODES, dused, &dcount);
    int rank = 3, r;
    description_t d;
    uint32_t desc, huff, data;
    memset(&d, 0, sizeof d);
    describe_floor(lused, lmax, &d);
    describe_floor(dused, dmax, &d);
    r = rank_floor(lcount);
    if (r > rank) rank = r;
    r = rank_floor(dcount);
    if (r > rank) rank = r;
    desc = d.bits;
    huff = huffman_cost4(d.zeros, d.rep17, d.rep18, d.nonzero) + 3 * d.rep17 + 7 * d.rep18;
    if (huff > desc) desc = huff;
    data = huffman_cost(z->lfreq, L_CODES);
    if (dcount == 2) { /* two codes of one bit (one of them perhaps padding) */
        int i;
        for (i = 0; i < D_CODES; i++) data += z->dfreq[i];
    } else {
        data += huffman_cost(z->dfreq, D_CODES);
    }
    return 14 + 3 * (uint32_t)(rank + 1) + desc + data + extra_bits;
}

static uint32_t extra_bits(const lz_t *z) {
    uint32_t bits = 0;
    int i;
    for (i = END_BLOCK + 1; i < L_CODES; i++) bits += (uint32_t)z->lfreq[i] * T_LEN_EXTRA[i - END_BLOCK - 1];
    for (i = 0; i < D_CODES; i++) bits += (uint32_t)z->dfreq[i] * T_DIST_EXTRA[i];
    return bits;
}

/* ------------------------------------------------------------------------------ zlib's trees */

/* One Huffman tree as trees.c builds it: leaves 0..elems-1, inner nodes from elems up. */
typedef struct {
    uint32_t freq[NODES];
    uint16_t dad[NODES];
    uint16_t len[NODES];
    uint16_t code[L_CODES];
    int max_code;
} tree_t;

typedef struct {
    int heap[NODES]; /* 1..heap_len: a min-heap; heap_max..NODES-1: nodes as they left it */
    int heap_len, heap_max;
    uint8_t depth[NODES];
    uint16_t bl_count[MAX_BITS + 1];
    uint64_t opt_len, static_len; /* modular arithmetic, as zlib's counters (they dip below 0) */
} builder_t;

/* Node a sorts before node b: lower frequency, or equal frequency and no greater depth. */
static int before(const tree_t *t, const uint8_t *depth, int a, int b) {
    return t->freq[a] < t->freq[b] || (t->freq[a] == t->freq[b] && depth[a] <= depth[b]);
}

static void sift_down(builder_t *b, const tree_t *t, int k) {
    int v = b->heap[k], j = k << 1;
    while (j <= b->heap_len) {
        if (j < b->heap_len && before(t, b->depth, b->heap[j + 1], b->heap[j])) j++;
        if (before(t, b->depth, v, b->heap[j])) break;
        b->heap[k] = b->heap[j];
        k = j;
        j <<= 1;
    }
    b->heap[k] = v;
}

/* Code lengths from the tree, limited to max_len the way zlib limits them, and opt_len/static_len
   accumulated over the leaves. */
static void assign_lengths(builder_t *b, tree_t *t, const uint8_t *extra, int extra_base, int max_len,
                           const uint8_t *fixed_len) {
    int h, n, bits, overflow = 0;
    memset(b->bl_count, 0, sizeof b->bl_count);
    t->len[b->heap[b->heap_max]] = 0;
    for (h = b->heap_max + 1; h < NODES; h++) {
        unsigned xbits;
        n = b->heap[h];
        bits = t->len[t->dad[n]] + 1;
        if (bits > max_len) {
            bits = max_len;
            overflow++;
        }
        t->len[n] = (uint16_t)bits;
        if (n > t->max_code) continue; /* an inner node */
        b->bl_count[bits]++;
        xbits = n >= extra_base ? extra[n - extra_base] : 0;
        b->opt_len += (uint64_t)t->freq[n] * (bits + xbits);
        if (fixed_len) b->static_len += (uint64_t)t->freq[n] * (fixed_len[n] + xbits);
    }
    if (overflow == 0) return;
    /* Too long: move leaves up from the deepest level until the counts form a complete code of
       lengths <= max_len, then hand the lengths out again, longest to the rarest leaves. */
    do {
        bits = max_len - 1;
        while (b->bl_count[bits] == 0) bits--;
        b->bl_count[bits]--;
        b->bl_count[bits + 1] += 2;
        b->bl_count[max_len]--;
        overflow -= 2;
    } while (overflow > 0);
    for (bits = max_len; bits != 0; bits--) {
        unsigned left = b->bl_count[bits];
        while (left != 0) {
            int m = b->heap[--h];
            if (m > t->max_code) continue;
            if (t->len[m] != bits) {
                b->opt_len += ((uint64_t)bits - t->len[m]) * t->freq[m];
                t->len[m] = (uint16_t)bits;
            }
            left--;
        }
    }
}

static unsigned reverse_bits(unsigned code, unsigned len) {
    unsigned r = 0;
    while (len--) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/* Canonical codes for the lengths, bit-reversed for LSB-first output. */
static void assign_codes(tree_t *t, const uint16_t *bl_count) {
    unsigned next[MAX_BITS + 1], code = 0;
    int bits, n;
    for (bits = 1; bits <= MAX_BITS; bits++) {
        code = (code + bl_count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (n = 0; n <= t->max_code; n++) {
        unsigned len = t->len[n];
        if (len) t->code[n] = (uint16_t)reverse_bits(next[len]++, len);
    }
}

/* t->freq[0..elems-1] holds the counts. */
static void build_tree(builder_t *b, tree_t *t, int elems, const uint8_t *extra, int extra_base, int max_len,
                       const uint8_t *fixed_len) {
    int n, m, node, max_code = -1;
    b->heap_len = 0;
    b->heap_max = NODES;
    for (n = 0; n < elems; n++) {
        if (t->freq[n] != 0) {
            b->heap[++b->heap_len] = max_code = n;
            b->depth[n] = 0;
        } else {
            t->len[n] = 0;
        }
    }
    /* Fewer than two symbols: pad with codes of frequency 1, as zlib does (and uncount them). */
    while (b->heap_len < 2) {
        node = b->heap[++b->heap_len] = max_code < 2 ? ++max_code : 0;
        t->freq[node] = 1;
        b->depth[node] = 0;
        b->opt_len--;
        if (fixed_len) b->static_len -= fixed_len[node];
    }
    t->max_code = max_code;
    for (n = b->heap_len / 2; n >= 1; n--) sift_down(b, t, n);
    node = elems;
    do {
        n = b->heap[1];
        b->heap[1] = b->heap[b->heap_len--];
        sift_down(b, t, 1);
        m = b->heap[1];
        b->heap[--b->heap_max] = n;
        b->heap[--b->heap_max] = m;
        t->freq[node] = t->freq[n] + t->freq[m];
        b->depth[node] = (uint8_t)((b->depth[n] >= b->depth[m] ? b->depth[n] : b->depth[m]) + 1);
        t->dad[n] = t->dad[m] = (uint16_t)node;
        b->heap[1] = node++;
        sift_down(b, t, 1);
    } while (b->heap_len >= 2);
    b->heap[--b->heap_max] = b->heap[1];
    assign_lengths(b, t, extra, extra_base, max_len, fixed_len);
    assign_codes(t, b->bl_count);
}

/* Walks a tree's code lengths 0..max_code in zlib's run-length form; counts the code-length
   symbols into `bl` (bits == NULL) or sends them with the code-length code `bl` (bits != NULL). */
static void walk_lengths(const tree_t *t, int max_code, tree_t *bl, bits_t *bits) {
    int n, prevlen = -1, curlen, nextlen = t->len[0], count = 0, max_count = 7, min_count = 4;
    if (nextlen == 0) max_count = 138, min_count = 3;
    for (n = 0; n <= max_code; n++) {
        int sym = -1, xval = 0, xlen = 0, reps = 0;
        curlen = nextlen;
        nextlen = n + 1 <= max_code ? t->len[n + 1] : -1; /* -1: zlib's guard, equal to no length */
        if (++count < max_count && curlen == nextlen) continue;
        if (count < min_count) {
            reps = count; /* that many literal lengths */
        } else if (curlen != 0) {
            if (curlen != prevlen) reps = 1, count--;
            sym = 16, xval = count - 3, xlen = 2;
        } else if (count <= 10) {
            sym = 17, xval = count - 3, xlen = 3;
        } else {
            sym = 18, xval = count - 11, xlen = 7;
        }
        if (bits == NULL) {
            bl->freq[curlen] += (uint32_t)reps;
            if (sym >= 0) bl->freq[sym]++;
        } else {
            while (reps-- > 0) put_bits(bits, bl->code[curlen], bl->len[curlen]);
            if (sym >= 0) {
                put_bits(bits, bl->code[sym], bl->len[sym]);
                put_bits(bits, (unsigned)xval, (unsigned)xlen);
            }
        }
        count = 0;
        prevlen = curlen;
        if (nextlen == 0) max_count = 138, min_count = 3;
        else if (curlen == nextlen) max_count = 6, min_count = 3;
        else max_count = 7, min_count = 4;
    }
}

typedef struct {
    builder_t b;
    tree_t lit, dist, bl;
    int max_blindex;
} trees_t;

static void build_trees(trees_t *T, const lz_t *z) {
    int i;
    memset(&T->b, 0, sizeof T->b);
    for (i = 0; i < L_CODES; i++) T->lit.freq[i] = z->lfreq[i];
    for (i = 0; i < D_CODES; i++) T->dist.freq[i] = z->dfreq[i];
    for (i = 0; i < BL_CODES; i++) T->bl.freq[i] = 0;
    build_tree(&T->b, &T->lit, L_CODES, T_LEN_EXTRA, END_BLOCK + 1, MAX_BITS, T_SLIT_LEN);
    build_tree(&T->b, &T->dist, D_CODES, T_DIST_EXTRA, 0, MAX_BITS, T_SDIST_LEN);
    walk_lengths(&T->lit, T->lit.max_code, &T->bl, NULL);
    walk_lengths(&T->dist, T->dist.max_code, &T->bl, NULL);
    build_tree(&T->b, &T->bl, BL_CODES, T_BL_EXTRA, 0, MAX_BL_BITS, NULL);
    for (T->max_blindex = BL_CODES - 1; T->max_blindex >= 3; T->max_blindex--) {
        if (T->bl.len[T_BL_ORDER[T->max_blindex]] != 0) break;
    }
    T->b.opt_len += 3 * ((uint64_t)T->max_blindex + 1) + 5 + 5 + 4;
}

static void send_dynamic(bits_t *bits, const trees_t *T, const lz_t *z) {
    int rank;
    uint8_t llen[L_CODES], dlen[D_CODES];
    put_bits(bits, (2 << 1) | 1, 3);
    put_bits(bits, (unsigned)(T->lit.max_code + 1 - 257), 5);
    put_bits(bits, (unsigned)(T->dist.max_code + 1 - 1), 5);
    put_bits(bits, (unsigned)(T->max_blindex + 1 - 4), 4);
    for (rank = 0; rank <= T->max_blindex; rank++) put_bits(bits, T->bl.len[T_BL_ORDER[rank]], 3);
    walk_lengths(&T->lit, T->lit.max_code, (tree_t *)&T->bl, bits);
    walk_lengths(&T->dist, T->dist.max_code, (tree_t *)&T->bl, bits);
    for (rank = 0; rank < L_CODES; rank++) llen[rank] = rank <= T->lit.max_code ? (uint8_t)T->lit.len[rank] : 0;
    for (rank = 0; rank < D_CODES; rank++) dlen[rank] = rank <= T->dist.max_code ? (uint8_t)T->dist.len[rank] : 0;
    put_symbols(bits, z, T->lit.code, llen, T->dist.code, dlen);
}

/* ------------------------------------------------------------------------------ the stream */

static uint32_t adler32_of(const uint8_t *p, size_t n) {
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t k = n < 5552 ? n : 5552; /* the most bytes before b can overflow 32 bits */
        n -= k;
        while (k--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

static int encode(const uint8_t *in, unsigned n, lz_t *z, uint8_t *out, size_t cap, size_t *outlen, int *path) {
    bits_t bits;
    uint32_t xbits = extra_bits(z);
    uint32_t fixed_bytes = (fixed_bits(z) + 3 + 7) >> 3;
    uint32_t floor_bytes = (dynamic_floor(z, xbits) + 3 + 7) >> 3;
    uint32_t adler = adler32_of(in, n);
    int kind; /* 0 stored, 1 fixed, 2 dynamic */
    trees_t T;
    if (floor_bytes >= fixed_bytes) {
        /* dynamic >= fixed: zlib takes the fixed size as the best coded size */
        kind = (size_t)n + 4 <= fixed_bytes ? 0 : 1;
        *path = FPD_PATH_BOUND;
    } else if ((size_t)n + 4 <= floor_bytes && (size_t)n + 4 <= fixed_bytes) {
        kind = 0;
        *path = FPD_PATH_BOUND;
    } else {
        uint64_t opt_bytes, static_bytes;
        build_trees(&T, z);
        opt_bytes = (T.b.opt_len + 3 + 7) >> 3;
        static_bytes = (T.b.static_len + 3 + 7) >> 3;
        if (static_bytes <= opt_bytes) opt_bytes = static_bytes;
        if ((uint64_t)n + 4 <= opt_bytes) kind = 0;
        else if (static_bytes == opt_bytes) kind = 1;
        else kind = 2;
        *path = FPD_PATH_TREES;
    }
    out[0] = 0x78;
    out[1] = 0x9C;
    if (kind == 0) {
        out[2] = 1; /* final, stored */
        out[3] = (uint8_t)n;
        out[4] = (uint8_t)(n >> 8);
        out[5] = (uint8_t)~n;
        out[6] = (uint8_t)(~n >> 8);
        if (n) memcpy(out + 7, in, n);
        bits.p = out + 7 + n;
        *path |= FPD_PATH_STORED;
    } else {
        bits.p = out + 2;
        bits.end = out + cap - 4;
        bits.acc = 0;
        bits.cnt = 0;
        if (kind == 1) {
            put_bits(&bits, (1 << 1) | 1, 3);
            put_symbols(&bits, z, T_SLIT_CODE, T_SLIT_LEN, T_SDIST_CODE, T_SDIST_LEN);
            *path |= FPD_PATH_FIXED;
        } else {
            send_dynamic(&bits, &T, z);
            *path |= FPD_PATH_DYNAMIC;
        }
        flush_bits(&bits);
        if (bits.p > bits.end) return -1; /* cannot happen: the block is never larger than stored */
    }
    bits.p[0] = (uint8_t)(adler >> 24);
    bits.p[1] = (uint8_t)(adler >> 16);
    bits.p[2] = (uint8_t)(adler >> 8);
    bits.p[3] = (uint8_t)adler;
    *outlen = (size_t)(bits.p + 4 - out);
    return 0;
}

int fpd_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen) {
    lz_t z;
    int path = 0, rc;
#ifdef FPD_TLS
    uint16_t *head = tls_head;
#else
    uint16_t head[HASH_SIZE];
    memset(head, 0, sizeof head);
#endif
    if (n > FPD_MAX_INPUT) return FPD_TOO_LONG;
    if (cap < FPD_BOUND(n)) return FPD_NO_ROOM;
    z.nsym = 0;
    memset(z.lfreq, 0, sizeof z.lfreq);
    memset(z.dfreq, 0, sizeof z.dfreq);
    z.lfreq[END_BLOCK] = 1;
    lz77(&z, in, (unsigned)n, head);
#ifdef FPD_TLS
    if (n >= MIN_MATCH) { /* every slot written was the hash of a position 0..n-3 */
        size_t p;
        for (p = 0; p + MIN_MATCH <= n; p++) head[hash3(in + p)] = 0;
    }
#endif
    rc = encode(in, (unsigned)n, &z, out, cap, outlen, &path);
#ifdef FPD_TLS
    tls_path = path;
#endif
    return rc == 0 ? FPD_OK : FPD_NO_ROOM;
}
