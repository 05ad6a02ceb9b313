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
 *   The matcher records only the matches: every byte no match covers is a literal. So its loop,
 *   where no match is pending, only enters positions into the chains and checks candidates; the
 *   literals are counted afterwards, in the gaps between the matches (with the Adler-32).
 *
 * Block choice. The whole input is one final block. Its size is worked out three ways, in bits:
 *   fixed code, zlib's dynamic code (its Huffman trees, tie-breaking and length limiting included,
 *   plus the cost of sending the trees), and stored (n + 4 bytes, compared with the others rounded
 *   up to bytes with 3 header bits). Stored wins when it is no larger than both, fixed when it is
 *   no larger than dynamic, dynamic otherwise.
 *
 * Shortcut. Building the trees costs more than everything else for short inputs, and short inputs
 *   nearly always end in a fixed or stored block. Two lower bounds on the dynamic block can show
 *   it cannot win; then zlib's heap is never run. The cheap one (dynamic_floor): the optimal
 *   unlimited Huffman cost of the symbols, which no length-limited tree beats whatever its ties,
 *   plus the least the tree description can cost given which symbols occur. It settles inputs
 *   with few distinct symbols, but not token payloads with long hex strings, whose trees cost a
 *   hundred bits or so more to describe than it counts. The shape bound (shape_floor) knows the
 *   code lengths nearly exactly without the heap: zlib takes its nodes in key order (count, then
 *   depth), and any order of equal keys makes the same sequence of keys, so the same node at each
 *   step; the heap's layout only decides which of the equal-key nodes hangs where. From the root
 *   down that leaves each node a range of depths, in practice a single depth for most; so the
 *   lengths that surely occur, hence a close lower bound on the description, are known, and the
 *   distance tree (a few codes) is built exactly. Where a bound keeps failing a thread stops
 *   working it out and retries it now and then (bound_worth_trying). The bounds change the time,
 *   never the bytes; tools/deflate_bound_check.sh and VERIFY=1 tools/deflate_diff.sh check them
 *   against the exact size.
 *
 * Trees. zlib's heap is reproduced step for step (its order of equal nodes decides code lengths,
 *   hence the bytes), but with each entry carrying its sort key, so a comparison touches no other
 *   array, and each sift done bottom-up (the hole runs down to a leaf, then climbs back to where
 *   zlib's sift would have stopped: the same places, fewer comparisons, no unpredictable branch
 *   on the way down). The lengths are set from the root down through each inner node's two
 *   children, kept in the order they left the heap for zlib's length limiting; the symbols' cost
 *   is the sum of the inner nodes' weights unless a length needs limiting.
 *
 * Output. A block is written 8 bytes at a time through a 64-bit accumulator into a scratch
 *   buffer, and copied out.
 */
#include "fp_deflate.h"

#include <stdint.h>
#include <string.h>
#ifdef FPD_VERIFY_BOUNDS
#include <stdio.h>
#include <stdlib.h>
#endif

#if defined(FP_NO_THREAD_STATE)
/* The kernel built without per-thread state (fp_state.h): none here either, so that build tests
   the stateless path (fresh hash heads on the stack for every call). */
#elif defined(_MSC_VER)
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

/* What a thread keeps between calls: the hash heads, the path the last call took, and the
   bound's track record (see encode): consecutive calls it settled nothing for, and a call counter
   for the periodic retry.

   The heads are never cleared after a call. A call numbers its positions from `base` (position
   p is stored as base + p) and takes a head as a candidate only when it is above base: every value
   an earlier call stored is at most the base this call starts from, so it reads as empty, as
   position 0 (stored as base itself) does, which zlib never takes as a candidate either. The
   table is cleared only when the numbers would overflow 16 bits, once in about 65535 / (n + 1)
   calls, instead of clearing the slots of every call. */
typedef struct {
    uint16_t head[HASH_SIZE];
    unsigned base;
    int path;
    unsigned bound_misses[2], calls[2]; /* for the two bounds, dynamic_floor and shape_floor */
} thread_state_t;

#ifdef FPD_TLS
static FPD_TLS thread_state_t tls_state;

#if defined(_MSC_VER)
#define FPD_NOINLINE __declspec(noinline)
#elif defined(__GNUC__) || defined(__clang__)
#define FPD_NOINLINE __attribute__((noinline))
#else
#define FPD_NOINLINE
#endif

/* This thread's state, its address taken once per call: where the address is visible, compilers
   re-derive it at each use inside the loops, and in a shared object (the extension) each time is
   a call to __tls_get_addr (about 270 calls per 150-byte input, measured). */
static FPD_NOINLINE thread_state_t *thread_state(void) { return &tls_state; }

int fpd_last_path(void) { return thread_state()->path; }
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

/* A match the matcher chose: bytes start..start+len-1 repeat those dist bytes before them. Every
   byte no match covers is a literal, so the symbols of the block are the matches and the gaps
   between them. */
typedef struct {
    uint16_t start, len, dist;
} match_t;

typedef struct {
    match_t match[FPD_MAX_INPUT / MIN_MATCH + 1];
    unsigned nmatch;
    unsigned covered;             /* bytes covered by matches */
    uint16_t prev[FPD_MAX_INPUT]; /* chain links, by position */
    uint16_t hash[FPD_MAX_INPUT]; /* hash3 of each position 0..n-3 */
    uint16_t lfreq[L_CODES];
    uint16_t dfreq[D_CODES];
    uint64_t lused[(L_CODES + 63) / 64]; /* which literal/length symbols occur, a bit each */
    uint64_t dused;                      /* which distance codes occur */
    uint32_t adler;
    uint32_t fixed; /* bits of the matches and the end of block under the fixed code */
    uint32_t extra; /* extra bits of the lengths and distances, under any code */
} lz_t;

/* Marks symbol s of a tree as occurring: a bit per symbol, so that what follows visits the few
   symbols a short input uses instead of scanning all 286 counts (or 30) several times. */
#define MARK_USED(set, s) ((set)[(s) >> 6] |= (uint64_t)1 << ((s)&63))

static void put_match(lz_t *z, unsigned start, unsigned dist, unsigned len) {
    unsigned lc = len - MIN_MATCH, d0 = dist - 1, code = T_LEN_CODE[lc], dc = DIST_CODE(d0);
    unsigned extra = (unsigned)T_LEN_EXTRA[code] + T_DIST_EXTRA[dc];
    match_t *m = &z->match[z->nmatch++];
    m->start = (uint16_t)start;
    m->len = (uint16_t)len;
    m->dist = (uint16_t)dist;
    z->covered += len;
    z->lfreq[END_BLOCK + 1 + code]++;
    z->dfreq[dc]++;
    MARK_USED(z->lused, END_BLOCK + 1 + code);
    z->dused |= (uint64_t)1 << dc;
    z->extra += extra;
    z->fixed += T_SLIT_LEN[END_BLOCK + 1 + code] + 5u + extra;
}

/* Counts the literals, the bytes between the matches, and computes the Adler-32 of all the bytes
   in the same pass (with n <= FPD_MAX_INPUT neither sum can overflow 32 bits before the final
   modulo). */
static void count_literals(lz_t *z, const uint8_t *w, unsigned n) {
    uint32_t a = 1, b = 0;
    unsigned pos = 0, i;
    for (i = 0;; i++) {
        unsigned until = i < z->nmatch ? z->match[i].start : n;
        for (; pos < until; pos++) {
            unsigned c = w[pos];
            a += c;
            b += a;
            z->lfreq[c]++;
            MARK_USED(z->lused, c);
        }
        if (i == z->nmatch) break;
        for (until = pos + z->match[i].len; pos < until; pos++) {
            a += w[pos];
            b += a;
        }
    }
    z->adler = (b % 65521) << 16 | (a % 65521);
}

/* Enters position pos into its chain; returns the previous position of the chain (0: none). */
static unsigned insert(lz_t *z, uint16_t *head, unsigned base, unsigned pos) {
    unsigned h = z->hash[pos], seen = head[h], cand = seen > base ? seen - base : 0;
    z->prev[pos] = (uint16_t)cand;
    head[h] = (uint16_t)(base + pos);
    return cand;
}

/* zlib's lazy matcher over w[0..n-1], its positions numbered from base in the heads. Where no
   match is pending it only enters positions and searches their chains (every byte passed is a
   literal, counted afterwards); from a match found until it goes out it follows zlib's lazy rule. */
static void lz77(lz_t *z, const uint8_t *w, unsigned n, uint16_t *head, unsigned base) {
    unsigned pos = 0, last, len, start = 0;
    if (n < MIN_MATCH) return; /* no position has three bytes to hash: all literals */
    last = n - MIN_MATCH;      /* the last position that enters the chains */
    for (pos = 0; pos <= last; pos++) z->hash[pos] = (uint16_t)hash3(w + pos); /* vectorizes */
    pos = 0;
    for (;;) {
        unsigned prev_len, prev_start, k;
        /* No match pending: look for one of at least MIN_MATCH bytes. */
        for (;; pos++) {
            unsigned cand;
            if (pos > last) return; /* the bytes left are literals */
            cand = insert(z, head, base, pos);
            if (cand != 0) {
                len = longest_match(w, pos, n - pos, cand, MIN_MATCH - 1, z->prev, &start);
                if (len > MIN_MATCH || (len == MIN_MATCH && pos - start <= TOO_FAR)) break;
            }
        }
        /* A match is pending at pos: the next position may offer a longer one. */
        do {
            unsigned cand = 0;
            prev_len = len;
            prev_start = start;
            pos++;
            len = MIN_MATCH - 1;
            if (pos <= last) cand = insert(z, head, base, pos);
            if (cand != 0 && prev_len < MAX_LAZY) {
                len = longest_match(w, pos, n - pos, cand, prev_len, z->prev, &start);
                if (len == MIN_MATCH && pos - start > TOO_FAR) len = MIN_MATCH - 1;
            }
        } while (len > prev_len); /* a longer one: the byte before it is a literal */
        /* The pending match (at pos - 1) goes out; the strings it covers enter the chains. */
        put_match(z, pos - 1, pos - 1 - prev_start, prev_len);
        for (k = pos + 1; k <= pos + prev_len - 2 && k <= last; k++) insert(z, head, base, k);
        pos += prev_len - 1;
    }
}

/* ------------------------------------------------------------------------------ bit output */

/* Bits go out least significant first through a 64-bit accumulator: put_bits adds at most 56
   bits in all (a match's four fields: 48) before flush_bits, which stores 8 bytes at once and
   keeps the 0-7 bits of a partial byte. So a store may write up to 7 bytes past the data: the
   block is written into a buffer with that much room (see encode) and copied out. */
typedef struct {
    uint8_t *p;
    uint64_t acc;
    unsigned cnt;
} bits_t;

static void put_bits(bits_t *b, uint64_t value, unsigned len) {
    b->acc |= value << b->cnt;
    b->cnt += len;
}

static void store64le(uint8_t *p, uint64_t v) {
#if (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) || defined(_MSC_VER)
    memcpy(p, &v, 8);
#else
    int i;
    for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static void flush_bits(bits_t *b) {
    store64le(b->p, b->acc);
    b->p += b->cnt >> 3;
    b->acc >>= b->cnt & ~7u; /* cnt < 64 */
    b->cnt &= 7;
}

/* The block's symbols (the literals between the matches, the matches, the end of block) under
   the literal/length code lcode/llen and the distance code dcode/dlen. */
static void put_symbols(bits_t *out, const uint8_t *w, unsigned n, const lz_t *z, const uint16_t *lcode,
                        const uint8_t *llen, const uint16_t *dcode, const uint8_t *dlen) {
    unsigned pos = 0, i;
    bits_t local = *out, *b = &local; /* a copy the stores cannot alias: it stays in registers */
    for (i = 0;; i++) {
        unsigned until = i < z->nmatch ? z->match[i].start : n;
        for (; pos + 3 <= until; pos += 3) { /* three literals: at most 45 bits */
            put_bits(b, lcode[w[pos]], llen[w[pos]]);
            put_bits(b, lcode[w[pos + 1]], llen[w[pos + 1]]);
            put_bits(b, lcode[w[pos + 2]], llen[w[pos + 2]]);
            flush_bits(b);
        }
        for (; pos < until; pos++) {
            put_bits(b, lcode[w[pos]], llen[w[pos]]);
            flush_bits(b);
        }
        if (i == z->nmatch) break;
        {
            const match_t *m = &z->match[i];
            unsigned lc = m->len - MIN_MATCH, code = T_LEN_CODE[lc], d0 = m->dist - 1u, dc = DIST_CODE(d0);
            put_bits(b, lcode[END_BLOCK + 1 + code], llen[END_BLOCK + 1 + code]);
            put_bits(b, lc - T_LEN_BASE[code], T_LEN_EXTRA[code]);
            put_bits(b, dcode[dc], dlen[dc]);
            put_bits(b, d0 - T_DIST_BASE[dc], T_DIST_EXTRA[dc]);
            flush_bits(b);
            pos += m->len;
        }
    }
    put_bits(b, lcode[END_BLOCK], llen[END_BLOCK]);
    flush_bits(b);
    *out = local;
}

/* ------------------------------------------------------------------------------ block sizes */

/* The counts of a tree's symbols, gathered for huffman_cost: counts below 32 by value (the
   bulk of them), larger ones kept sorted (few). */
typedef struct {
    uint16_t small[32];
    uint32_t big[L_CODES];
    int nbig;
} counts_t;

static void add_count(counts_t *c, unsigned f) {
    if (f < 32) {
        c->small[f]++;
    } else {
        int j = c->nbig++;
        while (j > 0 && c->big[j - 1] > f) {
            c->big[j] = c->big[j - 1];
            j--;
        }
        c->big[j] = f;
    }
}

/* The cost in bits of an optimal (length-unlimited) Huffman code for the counts gathered: a lower
   bound on what any Huffman tree zlib builds costs, however it breaks ties, since its tree is
   optimal before length limiting and limiting only adds. 0 for fewer than two symbols. */
/* The optimal Huffman cost of k counts sorted in leaf[0..k-1] (leaf[k] is free for a sentinel):
   two queues, the leaves and the sums made so far (made in non-decreasing order), each ending in
   a sentinel above any sum. */
static uint32_t sorted_huffman_cost(uint32_t *leaf, int k) {
    uint32_t inner[L_CODES + 1], cost = 0;
    int li = 0, qh = 0, qt = 0, step;
    if (k < 2) return 0;
    leaf[k] = UINT32_MAX;
    inner[0] = UINT32_MAX;
    for (step = 0; step < k - 1; step++) {
        uint32_t x, y;
        if (leaf[li] <= inner[qh]) x = leaf[li++]; else x = inner[qh++];
        if (leaf[li] <= inner[qh]) y = leaf[li++]; else y = inner[qh++];
        inner[qt++] = x + y;
        inner[qt] = UINT32_MAX;
        cost += x + y;
    }
    return cost;
}

static uint32_t huffman_cost_of(const counts_t *c) {
    uint32_t leaf[L_CODES + 1];
    int i, k = 0;
    for (i = 1; i < 32; i++) {
        unsigned m = c->small[i];
        while (m--) leaf[k++] = (uint32_t)i;
    }
    for (i = 0; i < c->nbig; i++) leaf[k++] = c->big[i];
    return sorted_huffman_cost(leaf, k);
}

static uint32_t huffman_cost(const uint16_t *f, int elems) {
    counts_t c;
    int i;
    memset(c.small, 0, sizeof c.small);
    c.nbig = 0;
    for (i = 0; i < elems; i++) if (f[i]) add_count(&c, f[i]);
    return huffman_cost_of(&c);
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

static void describe_used(description_t *d, unsigned m) { /* a run of m non-zero lengths */
    d->nonzero += m <= 3 ? m : 1 + (m - 1 + 5) / 6;
    d->bits += 1 + m / 2;
}

static void describe_unused(description_t *d, unsigned g) { /* a run of g zero lengths */
    unsigned r = g % 138;
    d->rep18 += g / 138 + (r > 10);
    d->rep17 += r >= 3 && r <= 10;
    d->zeros += r < 3 ? r : 0;
    d->bits += (g / 138) * 8 + (r == 0 ? 0 : r < 3 ? r : r <= 10 ? 4 : 8);
}

static void describe_floor(const uint8_t *used, int max_code, description_t *d) {
    int i = 0;
    while (i <= max_code) {
        int j = i;
        if (used[i]) {
            while (j <= max_code && used[j]) j++;
            describe_used(d, (unsigned)(j - i));
        } else {
            while (j <= max_code && !used[j]) j++;
            describe_unused(d, (unsigned)(j - i));
        }
        i = j;
    }
}

/* The symbols of a tree that occur, in increasing order, read off its bit set (lz_t's lused,
   dused). A run of consecutive symbols in it is a run of non-zero lengths in the tree's
   description; a gap, a run of zero lengths. */
typedef struct {
    uint16_t sym[L_CODES];
    int count;
} symbols_t;

#if defined(__GNUC__) || defined(__clang__)
#define LOWEST_BIT(b) __builtin_ctzll(b)
#else
/* The index of b's lowest set bit (b != 0): its isolated bit times a de Bruijn sequence puts a
   distinct 6-bit pattern in the top bits. */
static int lowest_bit(uint64_t b) {
    static const uint8_t index[64] = {
        0,  1,  2,  53, 3,  7,  54, 27, 4,  38, 41, 8,  34, 55, 48, 28, 62, 5,  39, 46, 44, 42,
        22, 9,  24, 35, 59, 56, 49, 18, 29, 11, 63, 52, 6,  26, 37, 40, 33, 47, 61, 45, 43, 21,
        23, 58, 17, 10, 51, 25, 36, 32, 60, 20, 57, 16, 50, 31, 19, 15, 30, 14, 13, 12,
    };
    return index[((b & (~b + 1)) * 0x022FDD63CC95386Dull) >> 58];
}
#define LOWEST_BIT(b) lowest_bit(b)
#endif

static void list_symbols(const uint64_t *set, int words, symbols_t *s) {
    int k = 0, w;
    for (w = 0; w < words; w++) {
        uint64_t b = set[w];
        while (b != 0) {
            s->sym[k++] = (uint16_t)(w * 64 + LOWEST_BIT(b));
            b &= b - 1;
        }
    }
    s->count = k;
}

/* describe_floor's description of the symbols listed (up to the last of them) and their counts
   for huffman_cost_of: for a tree that needs no padding (s->count >= 2). */
static void describe_symbols(const uint16_t *f, const symbols_t *s, description_t *d, counts_t *c) {
    int i = 0, j;
    unsigned next = 0; /* the first symbol after the last run */
    memset(c->small, 0, sizeof c->small);
    c->nbig = 0;
    while (i < s->count) {
        unsigned first = s->sym[i];
        add_count(c, f[first]);
        for (j = i + 1; j < s->count && s->sym[j] == s->sym[j - 1] + 1u; j++) add_count(c, f[s->sym[j]]);
        if (first > next) describe_unused(d, first - next);
        describe_used(d, (unsigned)(j - i));
        next = s->sym[j - 1] + 1u;
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
static uint32_t dynamic_floor(const lz_t *z, uint32_t extra_bits, const symbols_t *lsyms) {
    uint8_t lused[L_CODES], dused[D_CODES];
    int lcount, dcount, dmax;
    int rank = 3, r;
    description_t d;
    counts_t lc;
    uint32_t desc, huff, data = 0, rest;
    memset(&d, 0, sizeof d);
    lcount = lsyms->count;
    if (lsyms->count >= 2) {
        describe_symbols(z->lfreq, lsyms, &d, &lc);
    } else { /* the literal tree is padded (empty input): its symbols cost 0 bits here */
        describe_floor(lused, used_codes(z->lfreq, L_CODES, lused, &lcount), &d);
    }
    dmax = used_codes(z->dfreq, D_CODES, dused, &dcount);
    describe_floor(dused, dmax, &d);
    r = rank_floor(lcount);
    if (r > rank) rank = r;
    r = rank_floor(dcount);
    if (r > rank) rank = r;
    desc = d.bits;
    huff = huffman_cost4(d.zeros, d.rep17, d.rep18, d.nonzero) + 3 * d.rep17 + 7 * d.rep18;
    if (huff > desc) desc = huff;
    if (dcount == 2) { /* two codes of one bit (one of them perhaps padding) */
        int i;
        for (i = 0; i < D_CODES; i++) data += z->dfreq[i];
    } else {
        data += huffman_cost(z->dfreq, D_CODES);
    }
    rest = 14 + 3 * (uint32_t)(rank + 1) + desc + data + extra_bits;
    return lsyms->count < 2 ? rest : rest + huffman_cost_of(&lc);
}

/* ------------------------------------------------------------------------------ zlib's trees */

/* One Huffman tree as trees.c builds it: leaves 0..elems-1, inner nodes from elems up. */
typedef struct {
    uint8_t len[NODES]; /* code lengths of the leaves (0 for an unused one), depths of inner nodes */
    /* kids[heap_max..NODES-1]: the nodes in the order they left the heap, from the end: the first
       two out are kids[NODES-1] and kids[NODES-2] (the children of inner node elems), the next two
       the children of node elems + 1, and so on; the root is kids[heap_max]. */
    uint16_t kids[NODES];
    uint16_t code[L_CODES];
    uint16_t bl_count[MAX_BITS + 1]; /* codes per length: set by assign_codes (and a length fix-up) */
    int max_code, heap_max;
} tree_t;

/* A heap entry carries its node's sort key with it: frequency, then depth (the height of the
   node's subtree, as zlib's depth; below 32 for inputs of at most FPD_MAX_INPUT bytes), then, in
   the low 16 bits, the node number. Node a sorts before node b in zlib's heap ("lower frequency,
   or equal frequency and no greater depth") exactly when a's key is no greater than b's, i.e.
   when (a & KEY_ONLY) <= b whatever b's node bits are: the node number only rides along. Keeping
   the key in the entry spares the heap two indirect loads per comparison. The heap ends with a
   sentinel entry above every real one (heap[heap_len + 1]), so a last lone child needs no bounds
   check: the sentinel never sorts before it. */
#define ENTRY(freq, depth, node) ((uint64_t)(freq) << 24 | (uint64_t)(depth) << 16 | (uint64_t)(node))
#define KEY_ONLY (~(uint64_t)0xffff)
#define FREQ_ONLY (~(uint64_t)0xffffff)
#define DEPTH_ONLY ((uint64_t)0xff << 16)
#define SENTINEL (~(uint64_t)0)
#define NODE(e) ((uint16_t)((e)&0xffff))
#define DEPTH(e) ((unsigned)((e) >> 16) & 0xff)

/* Puts entry v into the hole at heap[k] and restores the heap below k as zlib's pqdownheap does:
   v sinks, each step swapping with the child that sorts first (the right one on a tie), until
   it sorts no later than that child. The place it stops at is found from the bottom: the hole
   first runs down the path of first-sorting children to a leaf, moving each up, then climbs back
   while v sorts no later than the entry above it. The children met on the path sort no earlier
   as the path goes down (the heap's order), so "v stops above this one" holds from some point of
   the path on and the climb finds that point; and v, sinking from near the bottom of the heap or
   made of the two smallest entries, mostly belongs near the bottom, where a climb is shortest. */
static void sift_down(uint64_t *heap, size_t heap_len, size_t k, uint64_t v) {
    const size_t top = k;
    const uint64_t vkey = v & KEY_ONLY;
    size_t j;
    while ((j = k << 1) <= heap_len) {
        /* zlib takes the right child when it sorts first; d may be the sentinel. The index is
           computed, not branched on: which child it is follows no pattern. */
        j += (heap[j + 1] & KEY_ONLY) <= heap[j];
        heap[k] = heap[j];
        k = j;
    }
    while (k > top && vkey <= heap[k >> 1]) {
        heap[k] = heap[k >> 1];
        k >>= 1;
    }
    heap[k] = v;
}

/* Builds the tree of the counts freq[0..elems-1] as zlib does (its padding of fewer than two
   symbols, heap order, tie-breaking and length limiting to max_len), leaving the code lengths in
   t->len[0..t->max_code]. Returns the bits of the symbols under those lengths, extra bits not
   included, as zlib's opt_len counts them (a padding leaf's count of 1 subtracted again). */
static uint32_t build_tree(tree_t *t, const uint16_t *freq, int elems, int max_len, const symbols_t *used) {
    uint64_t heap[L_CODES + 2];
    size_t heap_len = 0;
    int n, m, node, max_code = -1, h, bits, overflow = 0;
    int32_t cost = 0;
    uint32_t inner = 0; /* the weights of the inner nodes, summed */
    memset(t->len, 0, (size_t)elems);
    if (used != NULL) { /* the used symbols, known already: used->count >= 2 */
        for (n = 0; n < used->count; n++) heap[++heap_len] = ENTRY(freq[used->sym[n]], 0, used->sym[n]);
        max_code = used->sym[used->count - 1];
    } else {
        for (n = 0; n < elems; n++) {
            if (freq[n] != 0) heap[++heap_len] = ENTRY(freq[n], 0, max_code = n);
        }
    }
    /* Fewer than two symbols: pad with codes of frequency 1, as zlib does (and uncount them). */
    while (heap_len < 2) {
        node = max_code < 2 ? ++max_code : 0;
        heap[++heap_len] = ENTRY(1, 0, node);
        cost--;
    }
    t->max_code = max_code;
    heap[heap_len + 1] = SENTINEL;
    for (n = (int)heap_len / 2; n >= 1; n--) sift_down(heap, heap_len, (size_t)n, heap[n]);
    node = elems;
    h = NODES;
    do {
        /* The two entries that sort first leave (zlib's pqremove, then its next top); a node of
           their summed frequency, one deeper than the deeper of them, takes the second's place.
           The depths are below 128, so adding two entries carries nothing into the frequency. */
        uint64_t a = heap[1], b, sum, depth;
        uint64_t last = heap[heap_len];
        heap[heap_len--] = SENTINEL;
        sift_down(heap, heap_len, 1, last);
        b = heap[1];
        t->kids[--h] = NODE(a);
        t->kids[--h] = NODE(b);
        sum = (a + b) & FREQ_ONLY;
        depth = ((a & DEPTH_ONLY) >= (b & DEPTH_ONLY) ? a & DEPTH_ONLY : b & DEPTH_ONLY) + ((uint64_t)1 << 16);
        inner += (uint32_t)(sum >> 24);
        sift_down(heap, heap_len, 1, sum | depth | (uint64_t)node);
        node++;
    } while (heap_len >= 2);
    t->kids[--h] = NODE(heap[1]);
    t->heap_max = h;

    /* Lengths, top down: node elems + i is the parent of kids[NODES - 1 - 2i] and
       kids[NODES - 2 - 2i], and a parent is made after its children. The root's depth is the
       tree's height: with no leaf deeper than max_len, the symbols cost the sum of the inner
       nodes' weights (each leaf's count is in that many of them). */
    t->len[node - 1] = 0;
    if (DEPTH(heap[1]) <= (unsigned)max_len) {
        int i = NODES - 2 * (node - elems);
        for (m = node - 1; m >= elems; m--, i += 2) {
            uint8_t d = (uint8_t)(t->len[m] + 1);
            t->len[t->kids[i]] = d;
            t->len[t->kids[i + 1]] = d;
        }
        return (uint32_t)cost + inner;
    }
    /* Otherwise zlib's way: in the order the nodes left the heap, from the root, a node deeper
       than max_len is cut to it and counted (inner ones too), and the leaves are summed... */
    memset(t->bl_count, 0, sizeof t->bl_count);
    {
        int i = NODES - 2 * (node - elems);
        for (m = node - 1; m >= elems; m--, i += 2) {
            int k;
            for (k = i; k < i + 2; k++) {
                n = t->kids[k];
                bits = t->len[m] + 1;
                if (bits > max_len) {
                    bits = max_len;
                    overflow++;
                }
                t->len[n] = (uint8_t)bits;
                if (n > max_code) continue; /* an inner node */
                t->bl_count[bits]++;
                cost += (int32_t)(freq[n] ? freq[n] : 1) * bits;
            }
        }
    }
    /* ...then leaves move up from the deepest level until the counts form a complete code of
       lengths <= max_len, and the lengths are handed out again, longest to the leaves that left
       the heap first. */
    do {
        bits = max_len - 1;
        while (t->bl_count[bits] == 0) bits--;
        t->bl_count[bits]--;
        t->bl_count[bits + 1] += 2;
        t->bl_count[max_len]--;
        overflow -= 2;
    } while (overflow > 0);
    h = NODES;
    for (bits = max_len; bits != 0; bits--) {
        unsigned left = t->bl_count[bits];
        while (left != 0) {
            m = t->kids[--h];
            if (m > max_code) continue;
            if (t->len[m] != bits) {
                cost += (bits - (int32_t)t->len[m]) * (int32_t)(freq[m] ? freq[m] : 1);
                t->len[m] = (uint8_t)bits;
            }
            left--;
        }
    }
    return (uint32_t)cost;
}

static unsigned reverse_bits(unsigned code, unsigned len) {
    unsigned r = 0;
    while (len--) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/* Canonical codes for the lengths, bit-reversed for LSB-first output (only a dynamic block sent
   needs them). */
static void assign_codes(tree_t *t) {
    unsigned next[MAX_BITS + 1], code = 0;
    int bits, n;
    memset(t->bl_count, 0, sizeof t->bl_count);
    for (n = 0; n <= t->max_code; n++) t->bl_count[t->len[n]]++;
    t->bl_count[0] = 0;
    for (bits = 1; bits <= MAX_BITS; bits++) {
        code = (code + t->bl_count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (n = 0; n <= t->max_code; n++) {
        unsigned len = t->len[n];
        if (len) t->code[n] = (uint16_t)reverse_bits(next[len]++, len);
    }
}

/* Walks a tree's code lengths 0..max_code in zlib's run-length form; counts the code-length
   symbols into `blfreq` (bits == NULL) or sends them with the code-length code `bl`. */
static void walk_lengths(const tree_t *t, uint16_t *blfreq, const tree_t *bl, bits_t *bits) {
    int n, max_code = t->max_code, prevlen = -1, curlen, nextlen = t->len[0], count = 0, max_count = 7,
           min_count = 4;
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
            blfreq[curlen] = (uint16_t)(blfreq[curlen] + reps);
            if (sym >= 0) blfreq[sym]++;
        } else {
            while (reps-- > 0) {
                put_bits(bits, bl->code[curlen], bl->len[curlen]);
                flush_bits(bits);
            }
            if (sym >= 0) {
                put_bits(bits, bl->code[sym], bl->len[sym]);
                put_bits(bits, (unsigned)xval, (unsigned)xlen);
                flush_bits(bits);
            }
        }
        count = 0;
        prevlen = curlen;
        if (nextlen == 0) max_count = 138, min_count = 3;
        else if (curlen == nextlen) max_count = 6, min_count = 3;
        else max_count = 7, min_count = 4;
    }
}

/* The code-length symbols of a tree's lengths 0..max_code, counted into blfreq: what walk_lengths
   counts, worked out run by run. zlib's run coding cuts a run of one length v into pieces: for
   v == 0, pieces of 138 and a rest, each piece of c coded as c literal zeros (c < 3), one code 17
   (c <= 10) or one code 18; for v != 0, a first piece of up to 7, coded as c literals (c < 4) or one
   literal and one code 16, then pieces of up to 6, each c literals (c < 3) or one code 16. */
static void count_run(uint16_t *blfreq, unsigned v, unsigned r) { /* r lengths v in a row */
    if (v == 0) {
        blfreq[18] = (uint16_t)(blfreq[18] + r / 138);
        r %= 138;
        if (r < 3) blfreq[0] = (uint16_t)(blfreq[0] + r);
        else blfreq[r <= 10 ? 17 : 18]++;
    } else if (r < 4) {
        blfreq[v] = (uint16_t)(blfreq[v] + r);
    } else if (r <= 7) {
        blfreq[v]++;
        blfreq[16]++;
    } else {
        blfreq[v]++;
        r -= 7;
        blfreq[16] = (uint16_t)(blfreq[16] + 1 + r / 6);
        r %= 6;
        if (r < 3) blfreq[v] = (uint16_t)(blfreq[v] + r);
        else blfreq[16]++;
    }
}

/* Runs of equal lengths among lengths first..last-1. */
static void count_equal_runs(const uint8_t *len, int first, int last, uint16_t *blfreq) {
    while (first < last) {
        unsigned v = len[first];
        int j = first + 1;
        while (j < last && len[j] == v) j++;
        count_run(blfreq, v, (unsigned)(j - first));
        first = j;
    }
}

/* count_lengths for a tree whose coded symbols are listed (no padding), in one pass over the
   list: a gap between two listed symbols is a run of zero lengths, consecutive symbols of equal
   length extend a run. The common short runs are counted in line. */
static void count_listed_lengths(const tree_t *t, uint16_t *blfreq, const symbols_t *used) {
    const uint8_t *len = t->len;
    const uint16_t *sym = used->sym;
    unsigned v = len[sym[0]], r = 1; /* the run being gathered: r lengths v */
    int i;
    if (sym[0] != 0) count_run(blfreq, 0, sym[0]);
    for (i = 1; i < used->count; i++) {
        unsigned l = len[sym[i]], gap = sym[i] - sym[i - 1] - 1u;
        if (gap == 0 && l == v) {
            r++;
            continue;
        }
        if (r < 4) blfreq[v] = (uint16_t)(blfreq[v] + r);
        else count_run(blfreq, v, r);
        if (gap < 3) blfreq[0] = (uint16_t)(blfreq[0] + gap);
        else if (gap <= 138) blfreq[gap <= 10 ? 17 : 18]++;
        else count_run(blfreq, 0, gap);
        v = l;
        r = 1;
    }
    if (r < 4) blfreq[v] = (uint16_t)(blfreq[v] + r);
    else count_run(blfreq, v, r);
}

static void count_lengths(const tree_t *t, uint16_t *blfreq, const symbols_t *used) {
    if (used != NULL) count_listed_lengths(t, blfreq, used);
    else count_equal_runs(t->len, 0, t->max_code + 1, blfreq);
}

typedef struct {
    tree_t lit, dist, bl;
    uint16_t blfreq[BL_CODES];
    int max_blindex;
} trees_t;

/* The three trees of the block; returns zlib's opt_len (the dynamic block's bits after its 3
   header bits) given the extra bits of its lengths and distances. */
static uint32_t build_trees(trees_t *T, const lz_t *z, uint32_t extra, const symbols_t *lsyms) {
    uint32_t opt = extra;
    int i;
    if (lsyms->count < 2) lsyms = NULL; /* the literal tree is padded: scan it */
    opt += build_tree(&T->lit, z->lfreq, L_CODES, MAX_BITS, lsyms);
    opt += build_tree(&T->dist, z->dfreq, D_CODES, MAX_BITS, NULL);
    memset(T->blfreq, 0, sizeof T->blfreq);
    count_lengths(&T->lit, T->blfreq, lsyms);
    count_lengths(&T->dist, T->blfreq, NULL);
    opt += build_tree(&T->bl, T->blfreq, BL_CODES, MAX_BL_BITS, NULL);
    for (i = 0; i < BL_CODES; i++) opt += (uint32_t)T->blfreq[i] * T_BL_EXTRA[i];
    for (T->max_blindex = BL_CODES - 1; T->max_blindex >= 3; T->max_blindex--) {
        if (T->bl.len[T_BL_ORDER[T->max_blindex]] != 0) break;
    }
    return opt + 3 * ((uint32_t)T->max_blindex + 1) + 5 + 5 + 4;
}

static void send_dynamic(bits_t *bits, trees_t *T, const uint8_t *w, unsigned n, const lz_t *z) {
    int rank;
    uint8_t llen[L_CODES], dlen[D_CODES];
    assign_codes(&T->lit);
    assign_codes(&T->dist);
    assign_codes(&T->bl);
    put_bits(bits, (2 << 1) | 1, 3);
    put_bits(bits, (unsigned)(T->lit.max_code + 1 - 257), 5);
    put_bits(bits, (unsigned)(T->dist.max_code + 1 - 1), 5);
    put_bits(bits, (unsigned)(T->max_blindex + 1 - 4), 4);
    flush_bits(bits);
    for (rank = 0; rank <= T->max_blindex; rank++) {
        put_bits(bits, T->bl.len[T_BL_ORDER[rank]], 3);
        flush_bits(bits);
    }
    walk_lengths(&T->lit, NULL, &T->bl, bits);
    walk_lengths(&T->dist, NULL, &T->bl, bits);
    for (rank = 0; rank < L_CODES; rank++) llen[rank] = rank <= T->lit.max_code ? T->lit.len[rank] : 0;
    for (rank = 0; rank < D_CODES; rank++) dlen[rank] = rank <= T->dist.max_code ? T->dist.len[rank] : 0;
    put_symbols(bits, w, n, z, T->lit.code, llen, T->dist.code, dlen);
}

/* ------------------------------------------------------------------------------ the shape bound */

/* The optimal Huffman cost of up to BL_CODES counts, sorted by insertion (few). */
static uint32_t small_huffman_cost(const uint16_t *f, int elems) {
    uint32_t leaf[BL_CODES + 1];
    int i, k = 0;
    for (i = 0; i < elems; i++) {
        uint32_t v = f[i];
        int j = k;
        if (v == 0) continue;
        while (j > 0 && leaf[j - 1] > v) {
            leaf[j] = leaf[j - 1];
            j--;
        }
        leaf[j] = v;
        k++;
    }
    return sorted_huffman_cost(leaf, k);
}

/* Takes the symbols that could repeat a length in a run (a bit per length) off those lengths'
   literal counts: such runs send them as code 16 instead. */
static void uncount_repeats(uint16_t *blfreq, unsigned lengths) {
    while (lengths != 0) { /* mostly none */
        int v = LOWEST_BIT(lengths);
        if (blfreq[v] != 0) blfreq[v]--;
        lengths &= lengths - 1;
    }
}

/* A lower bound on zlib's opt_len much closer to it than dynamic_floor's, for a literal tree of at
   least two used symbols, without zlib's heap; 0 when it cannot tell (a tree deeper than
   MAX_BITS, whose lengths zlib's length limiting would rework).

   Which node leaves zlib's heap next is decided by its key, (count, depth), and among equal keys
   by the heap's layout. Taking the nodes in key order, ties broken any way (here: the leaves
   sorted by count, the inner nodes in the order they are made, which is key order), gives the
   same keys leaving at every turn (two turns a step), so every step makes a node of the same
   key: the choices among equal keys only decide which node of a key takes which of that key's
   turns, hence which node it hangs under. A node's depth is one more than the depth of the node
   made at the step of its turn. So, from the root down a key at a time, whatever the choices,
   each node of a key ends within [1 + least, 1 + greatest] of the depths possible for the nodes
   made at that key's turns. A count's leaves take that count's turns one to one: for every turn
   whose step's node has a single possible depth d, some leaf of that count has length d + 1
   (lengths are depths: the tree is no deeper than MAX_BITS).

   The description of the literal tree is then bounded below: its runs of zero lengths are known;
   each length v is sent as a literal code-length symbol at least as often as it surely occurs,
   less the symbols that could sit in a run of four or more used symbols all able to be v (only
   such runs send repeats, code 16, which is not counted). The distance tree is built exactly (a
   few codes). The bound: the literal/length symbols at their optimal Huffman cost (zlib's tree is
   optimal, or longer where limited), the distance tree's exact cost, the extra bits, the optimal
   Huffman cost of the code-length symbols counted (which only grows with more of them) and their
   extra bits, and at least as many code-length code lengths as the last of those symbols in
   RFC 1951's order needs. */
/* A run of equal keys in one of shape_floor's queues: the leaves of a count, or a group of
   inner nodes (made one after another: nodes first..first+many-1); once it has left, its first
   turn and the groups of the nodes made at its turns' steps; then the range of its nodes' depths
   (a group) or of its leaves' code lengths (a count). */
typedef struct {
    uint32_t key; /* count << 8 | depth */
    uint16_t first, many;
    uint16_t turn, above_first, above_last;
    uint8_t lo, hi;
} keyrun_t;

/* The groups of the nodes made at the steps of a run's turns (node_group: each node's group). */
static void groups_above(keyrun_t *r, const uint16_t *node_group) {
    r->above_first = node_group[r->turn / 2u];
    r->above_last = node_group[(r->turn + r->many - 1u) / 2u];
}

static uint32_t shape_floor(const lz_t *z, uint32_t extra_bits, const symbols_t *lsyms) {
    const int n = lsyms->count;
    const uint16_t *sym = lsyms->sym;
    keyrun_t leaf[L_CODES + 1], group[L_CODES + 1]; /* each ends in a sentinel */
    uint16_t node_group[L_CODES];                   /* the group of each inner node */
    uint16_t len_mask[32]; /* the lengths (a bit each) the leaves of a count below 32 can have */
    unsigned can_be[4], repeats[4], next;
    uint16_t blfreq[BL_CODES], count[32];
    uint32_t cost = 0, bound, pending = 0;
    unsigned turn = 0, turns = 2u * (unsigned)(n - 1), made = 0;
    int i, j, g, f, leaves = 0, groups = 0, next_leaf = 0, next_group = 0, rank = 3, big = 0;
    symbols_t dsyms;
    tree_t dist;
    if (n < 2) return 0;
    /* The leaves' counts, by increasing count: how many of each below 32, the larger ones (few)
       sorted as they come into the last slots of leaf[], then gathered. */
    memset(count, 0, sizeof count);
    for (i = 0; i < n; i++) {
        uint32_t v = z->lfreq[sym[i]];
        if (v < 32) {
            count[v]++;
        } else {
            int k = L_CODES - big++;
            while (k < L_CODES && leaf[k + 1].key < v << 8) {
                leaf[k].key = leaf[k + 1].key;
                k++;
            }
            leaf[k].key = v << 8;
        }
    }
    for (f = 1; f < 32; f++) {
        if (count[f] != 0) leaf[leaves].key = (uint32_t)f << 8, leaf[leaves++].many = count[f];
    }
    for (i = L_CODES + 1 - big; i <= L_CODES; i++) {
        if (leaves > 0 && leaf[leaves - 1].key == leaf[i].key) leaf[leaves - 1].many++;
        else leaf[leaves].key = leaf[i].key, leaf[leaves++].many = 1;
    }
    leaf[leaves].key = UINT32_MAX;
    group[0].key = UINT32_MAX;
    /* The merge, a run of equal keys at a time: the run that sorts first leaves whole (every node
       of its key exists by then, and the nodes made meanwhile sort after it), two turns a step.
       A leaf goes before an inner node of the same count (depth 0 against at least 1), as in
       zlib. Its turns pair up into nodes of one key; an odd turn left over pairs with the next
       run's first. */
    while (turn < turns) {
        keyrun_t *r = leaf[next_leaf].key <= group[next_group].key ? &leaf[next_leaf++] : &group[next_group++];
        unsigned end = turn + r->many;
        r->turn = (uint16_t)turn;
        while (turn < end) { /* at most: the node of an odd turn, the pairs, a turn left over */
            uint32_t a = turn & 1 ? pending : r->key, b = r->key, key;
            unsigned many = turn & 1 ? 1u : (end - turn) / 2u;
            if (many == 0) { /* one turn left: it pairs with the next run's first */
                pending = r->key;
                turn++;
                break;
            }
            key = (((a >> 8) + (b >> 8)) << 8) + (((a & 0xff) > (b & 0xff) ? a : b) & 0xff) + 1;
            if (groups > 0 && group[groups - 1].key == key) {
                group[groups - 1].many = (uint16_t)(group[groups - 1].many + many);
            } else {
                if (groups > 0 && key < group[groups - 1].key) return 0; /* cannot happen: made in key order */
                group[groups].key = key, group[groups].first = (uint16_t)made, group[groups].many = (uint16_t)many;
                group[++groups].key = UINT32_MAX;
            }
            cost += (key >> 8) * many;
            for (j = 0; j < (int)many; j++) node_group[made + (unsigned)j] = (uint16_t)(groups - 1);
            made += many;
            turn += turn & 1 ? 1u : 2u * many;
        }
    }
    if ((group[groups - 1].key & 0xff) > MAX_BITS) return 0; /* the root's depth: the tree's height */
    group[groups].first = (uint16_t)made;
    /* The groups made at each run's steps, then the depth ranges, from the root's group down:
       every node leaves at a later step, which made a node of a greater key. */
    for (i = 0; i < groups - 1; i++) groups_above(&group[i], node_group);
    group[groups - 1].lo = group[groups - 1].hi = 0;
    for (i = groups - 2; i >= 0; i--) {
        unsigned l = 255, h = 0;
        for (g = group[i].above_first; g <= group[i].above_last; g++) {
            l = group[g].lo < l ? group[g].lo : l;
            h = group[g].hi > h ? group[g].hi : h;
        }
        group[i].lo = (uint8_t)(l + 1);
        group[i].hi = (uint8_t)(h + 1);
    }
    /* The leaves' length ranges, a count at a time, and the lengths known to occur: a turn whose
       step made a node of a single possible depth d gives some leaf of the count length d + 1. */
    memset(blfreq, 0, sizeof blfreq);
    for (i = 0; i < leaves; i++) {
        keyrun_t *r = &leaf[i];
        unsigned l = 255, h = 0;
        groups_above(r, node_group);
        for (j = r->above_first; j <= r->above_last; j++) {
            const keyrun_t *above = &group[j];
            l = above->lo < l ? above->lo : l;
            h = above->hi > h ? above->hi : h;
            if (above->lo == above->hi) { /* the run's turns at the steps that made group j */
                unsigned from = 2u * above->first, to = 2u * above[1].first;
                from = from > r->turn ? from : r->turn;
                to = to < r->turn + r->many ? to : r->turn + r->many;
                if (to > from) blfreq[above->lo + 1] = (uint16_t)(blfreq[above->lo + 1] + (to - from));
            }
        }
        r->lo = (uint8_t)(l + 1);
        r->hi = (uint8_t)(h + 1);
        if (r->key >> 8 < 32) len_mask[r->key >> 8] = (uint16_t)((2u << r->hi) - (1u << r->lo));
    }
    /* The description of the literal tree, bounded below as said: the zero runs, and the
       symbols that could sit in a run of four or more equal lengths. A length range is a mask
       (a bit per length); positions i-3..i keep theirs, and the lengths they could repeat, in
       four slots; a position's repeats are final once the window ending 3 later is seen. */
    for (i = 0, next = 0; i < n; i++) {
        unsigned gap = sym[i] - next, v = z->lfreq[sym[i]];
        next = sym[i] + 1u;
        if (gap < 3) blfreq[0] = (uint16_t)(blfreq[0] + gap);
        else if (gap <= 138) blfreq[gap <= 10 ? 17 : 18]++;
        else count_run(blfreq, 0, gap);
        if (v < 32) {
            can_be[i & 3] = len_mask[v];
        } else {
            for (g = 0; leaf[g].key != v << 8; g++) { /* few: find its count */
            }
            can_be[i & 3] = (2u << leaf[g].hi) - (1u << leaf[g].lo);
        }
        repeats[i & 3] = 0;
        if (i >= 3 && sym[i - 3] == sym[i] - 3u) { /* four symbols in a row, all used */
            unsigned all = can_be[0] & can_be[1] & can_be[2] & can_be[3];
            repeats[0] |= all, repeats[1] |= all, repeats[2] |= all, repeats[3] |= all;
        }
        if (i >= 3) uncount_repeats(blfreq, repeats[(i - 3) & 3]);
    }
    for (i = n < 3 ? 0 : n - 3; i < n; i++) uncount_repeats(blfreq, repeats[i & 3]);
    /* The distance tree, exactly. */
    list_symbols(&z->dused, 1, &dsyms);
    bound = build_tree(&dist, z->dfreq, D_CODES, MAX_BITS, dsyms.count >= 2 ? &dsyms : NULL);
    count_lengths(&dist, blfreq, dsyms.count >= 2 ? &dsyms : NULL);
    for (i = 0; i <= MAX_BITS; i++) { /* codes 16-18 come first in the order: they never raise it */
        if (blfreq[i] != 0 && T_BL_RANK[i] > rank) rank = T_BL_RANK[i];
    }
    bound += cost + extra_bits + small_huffman_cost(blfreq, BL_CODES);
    bound += 2u * blfreq[16] + 3u * blfreq[17] + 7u * blfreq[18];
    return bound + 3 * ((uint32_t)rank + 1) + 5 + 5 + 4;
}

/* ------------------------------------------------------------------------------ the stream */

/* Whether to work out the lower bound on the dynamic block for this call. The output does not
   depend on it (without the bound the trees decide, exactly), only the time does: the bound
   costs about a third of the trees, and inputs of one kind (a server's tokens) either nearly all
   pass it or nearly all fail it. So after 4 failures in a row on this thread it is tried on every
   16th call only, until it settles one again. */
static int bound_worth_trying(thread_state_t *ts, int which) {
#ifdef FPD_VERIFY_BOUNDS
    (void)ts, (void)which;
    return 1;
#else
    return ts == NULL || ts->bound_misses[which] < 4 || (++ts->calls[which] & 15) == 0;
#endif
}

static void bound_outcome(thread_state_t *ts, int which, int settled) {
    if (ts != NULL) ts->bound_misses[which] = settled ? 0 : ts->bound_misses[which] + 1;
}

/* The block a lower bound on the dynamic block's bytes settles (0 stored, 1 fixed), or -1. */
static int settled_by(uint32_t floor_bytes, uint32_t fixed_bytes, unsigned n) {
    if (floor_bytes >= fixed_bytes) { /* dynamic >= fixed: zlib takes the fixed size as the best */
        return (size_t)n + 4 <= fixed_bytes ? 0 : 1;
    }
    if ((size_t)n + 4 <= floor_bytes && (size_t)n + 4 <= fixed_bytes) return 0;
    return -1;
}

static int encode(const uint8_t *in, unsigned n, lz_t *z, uint8_t *out, size_t cap, size_t *outlen, int *path,
                  thread_state_t *ts) {
    uint8_t *const begin = out;
    bits_t bits;
    uint32_t xbits = z->extra;
    uint32_t fixed_bytes;
    symbols_t lsyms;
    int kind = -1, i; /* kind: 0 stored, 1 fixed, 2 dynamic; -1 undecided */
    trees_t T;
    /* A coded block is chosen only when smaller than a stored one (n + 5 bytes), but the scratch
       buffer holds any block of FPD_MAX_INPUT bytes (literals of 15 bits, or matches of 48 bits
       per 3 bytes, and the longest tree description) and flush_bits' 8-byte stores: memory stays
       safe whatever the sizes say, and a block that would not fit the caller's buffer is refused. */
    uint8_t block[2 * FPD_MAX_INPUT + 1024];
    list_symbols(z->lused, (int)(sizeof z->lused / sizeof z->lused[0]), &lsyms);
    /* the literals' bits under the fixed code: 8 each, 9 for 144..255 */
    z->fixed += 8 * (n - z->covered);
    for (i = lsyms.count - 1; i >= 0 && lsyms.sym[i] >= 144; i--) {
        if (lsyms.sym[i] < END_BLOCK) z->fixed += z->lfreq[lsyms.sym[i]];
    }
    fixed_bytes = (z->fixed + 3 + 7) >> 3;
#ifdef FPD_VERIFY_BOUNDS
    { /* tools/deflate_diff.sh with VERIFY=1: every call, both bounds against the exact size */
        uint32_t exact = build_trees(&T, z, xbits, &lsyms), cheap = dynamic_floor(z, xbits, &lsyms),
                 shape = shape_floor(z, xbits, &lsyms);
        if (cheap > exact || shape > exact) {
            fprintf(stderr, "fp_deflate: a bound above the dynamic block: %u, %u > %u bits\n", cheap, shape, exact);
            abort();
        }
    }
#endif
    /* Two lower bounds, the cheap one first; each is skipped for a while where it keeps failing. */
    if (bound_worth_trying(ts, 0)) {
        kind = settled_by((dynamic_floor(z, xbits, &lsyms) + 3 + 7) >> 3, fixed_bytes, n);
        bound_outcome(ts, 0, kind >= 0);
        *path = FPD_PATH_BOUND;
    }
    if (kind < 0 && bound_worth_trying(ts, 1)) {
        kind = settled_by((shape_floor(z, xbits, &lsyms) + 3 + 7) >> 3, fixed_bytes, n);
        bound_outcome(ts, 1, kind >= 0);
        *path = FPD_PATH_SHAPE;
    }
    if (kind < 0) {
        /* zlib's static_len is the fixed code's size: fixed_bytes */
        uint32_t opt_bytes = (build_trees(&T, z, xbits, &lsyms) + 3 + 7) >> 3, static_bytes = fixed_bytes;
        if (static_bytes <= opt_bytes) opt_bytes = static_bytes;
        if ((size_t)n + 4 <= opt_bytes) kind = 0;
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
        out += 7 + n;
        *path |= FPD_PATH_STORED;
    } else {
        size_t size;
        bits.p = block;
        bits.acc = 0;
        bits.cnt = 0;
        if (kind == 1) {
            put_bits(&bits, (1 << 1) | 1, 3);
            put_symbols(&bits, in, n, z, T_SLIT_CODE, T_SLIT_LEN, T_SDIST_CODE, T_SDIST_LEN);
            *path |= FPD_PATH_FIXED;
        } else {
            send_dynamic(&bits, &T, in, n, z);
            *path |= FPD_PATH_DYNAMIC;
        }
        size = (size_t)(bits.p - block) + (bits.cnt != 0); /* the last byte, padded with zeros */
        if (2 + size + 4 > cap) return -1; /* cannot happen: the block is never larger than stored */
        memcpy(out + 2, block, size);
        out += 2 + size;
    }
    out[0] = (uint8_t)(z->adler >> 24);
    out[1] = (uint8_t)(z->adler >> 16);
    out[2] = (uint8_t)(z->adler >> 8);
    out[3] = (uint8_t)z->adler;
    *outlen = (size_t)(out + 4 - begin);
    return 0;
}

int fpd_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen) {
    lz_t z;
    int path = 0, rc;
    uint16_t *head;
    unsigned base;
#ifdef FPD_TLS
    thread_state_t *ts = thread_state();
    if (n > FPD_MAX_INPUT) return FPD_TOO_LONG;
    if (cap < FPD_BOUND(n)) return FPD_NO_ROOM;
    if (ts->base > 0xFFFFu - FPD_MAX_INPUT) { /* the positions would not fit: start afresh */
        memset(ts->head, 0, sizeof ts->head);
        ts->base = 0;
    }
    head = ts->head;
    base = ts->base;
    ts->base += (unsigned)n;
#else
    thread_state_t *ts = NULL; /* no thread-local storage: fresh heads on the stack every call */
    uint16_t heads[HASH_SIZE];
    if (n > FPD_MAX_INPUT) return FPD_TOO_LONG;
    if (cap < FPD_BOUND(n)) return FPD_NO_ROOM;
    memset(heads, 0, sizeof heads);
    head = heads;
    base = 0;
#endif
    z.nmatch = 0;
    z.covered = 0;
    memset(z.lfreq, 0, sizeof z.lfreq);
    memset(z.dfreq, 0, sizeof z.dfreq);
    memset(z.lused, 0, sizeof z.lused);
    z.dused = 0;
    z.lfreq[END_BLOCK] = 1;
    MARK_USED(z.lused, END_BLOCK);
    z.fixed = T_SLIT_LEN[END_BLOCK]; /* the literals' share is added once they are known */
    z.extra = 0;
    lz77(&z, in, (unsigned)n, head, base);
    count_literals(&z, in, (unsigned)n);
    rc = encode(in, (unsigned)n, &z, out, cap, outlen, &path, ts);
    if (ts != NULL) ts->path = path;
    return rc == 0 ? FPD_OK : FPD_NO_ROOM;
}
