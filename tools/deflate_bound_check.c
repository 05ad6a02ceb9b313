/* Checks fp_deflate.c's two lower bounds on the dynamic block against the block's exact size, on
 * synthetic symbol counts made to stress them (see tools/deflate_bound_check.sh):
 *
 *   deflate_bound_check [TRIALS [SEED]]
 *
 * deflate_diff.c checks the bytes against zlib on real inputs; the bounds only ever change the
 * time, as long as they are lower bounds, and the inputs there rarely put them near their edge.
 * Here the counts of the literal/length and distance symbols are drawn directly, with many equal
 * counts (where zlib's heap order decides lengths), Fibonacci-like counts (deep trees, up to and
 * past the 15-bit limit), a few symbols or nearly all of them, runs of used symbols (code-length
 * repeats); each trial builds zlib's trees exactly (build_trees) and fails if either bound is
 * above it. It prints how often each bound was within 16 bits of the exact size, to show they are
 * exercised near the edge too.
 */
#include "../src/agora_token/fp_deflate.c"

#include <stdio.h>
#include <stdlib.h>

#include "splitmix.h"

/* One count, by the trial's style. */
static unsigned draw(int style, unsigned i) {
    static const unsigned fib[] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597};
    switch (style) {
    case 0: return 1 + below(3);                         /* few values: ties everywhere */
    case 1: return below(4) ? 1 : 1 + below(6);          /* mostly ones */
    case 2: return fib[below(17)];                       /* deep trees */
    case 3: return 1 + below(1 + below(60));             /* spread */
    default: return i < 17 ? fib[i] : 1 + below(2);      /* one long chain */
    }
}

int main(int argc, char **argv) {
    unsigned long trials = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000ul, t;
    unsigned long near_cheap = 0, near_shape = 0, shaped = 0;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 7;
    for (t = 0; t < trials; t++) {
        static lz_t z;
        symbols_t lsyms;
        trees_t T;
        int style = (int)below(5), i, used = 2 + (int)below(below(2) ? 40 : L_CODES - 1);
        unsigned total;
        uint32_t exact, cheap, shape, extra = below(200);
        memset(z.lfreq, 0, sizeof z.lfreq);
        memset(z.dfreq, 0, sizeof z.dfreq);
        memset(z.lused, 0, sizeof z.lused);
        z.dused = 0;
        /* used symbols: runs of consecutive ones from random starts (END_BLOCK always), the
           total kept near what an input of at most FPD_MAX_INPUT bytes can have */
        for (i = 0, total = 0; i < used && total < 2 * FPD_MAX_INPUT;) {
            unsigned s = below(L_CODES), k, run = 1 + below(12);
            for (k = 0; k < run && i < used && z.lfreq[s] == 0; k++, i++, s = (s + 1) % L_CODES) {
                z.lfreq[s] = (uint16_t)draw(style, (unsigned)i);
                total += z.lfreq[s];
                MARK_USED(z.lused, s);
            }
            if (k == 0) i++; /* landed on a used one: count the attempt, so that this ends */
        }
        if (z.lfreq[END_BLOCK] == 0) {
            z.lfreq[END_BLOCK] = 1;
            MARK_USED(z.lused, END_BLOCK);
        }
        for (i = (int)below(5); i > 0; i--) {
            unsigned d = below(below(2) ? 4 : D_CODES);
            z.dfreq[d] = (uint16_t)(z.dfreq[d] + draw(style, (unsigned)i));
            z.dused |= (uint64_t)1 << d;
        }
        list_symbols(z.lused, (int)(sizeof z.lused / sizeof z.lused[0]), &lsyms);
        exact = build_trees(&T, &z, extra, &lsyms);
        cheap = dynamic_floor(&z, extra, &lsyms);
        shape = shape_floor(&z, extra, &lsyms);
        if (cheap > exact || shape > exact) {
            fprintf(stderr, "trial %lu (style %d): bound above the exact size: cheap %u, shape %u > %u\n", t, style,
                    cheap, shape, exact);
            for (i = 0; i < L_CODES; i++) if (z.lfreq[i]) fprintf(stderr, " %d:%u", i, z.lfreq[i]);
            fprintf(stderr, "\n");
            return 1;
        }
        near_cheap += exact - cheap <= 16;
        shaped += shape != 0;
        near_shape += shape != 0 && exact - shape <= 16;
    }
    printf("%lu trials, every bound at most the exact size; within 16 bits of it: cheap bound %lu, shape bound "
           "%lu (of %lu where it applied)\n",
           trials, near_cheap, near_shape, shaped);
    return 0;
}
