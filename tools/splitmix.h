/* The random numbers of the deflate tools (deflate_diff.c, deflate_bound_check.c): splitmix64, seeded
 * by setting rng_state; a run is reproduced from its seed alone. */
#ifndef AGORA_TOKEN_TOOLS_SPLITMIX_H
#define AGORA_TOKEN_TOOLS_SPLITMIX_H

#include <stdint.h>

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned k) { return (unsigned)(rnd() % k); }

#endif
