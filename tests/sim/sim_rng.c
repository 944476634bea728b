/*
 * Deterministic randomness for the simulator: splitmix64 expands a seed,
 * xoshiro256** (Blackman and Vigna, 2018) generates. A seed gives several
 * independent streams (network, schedule, Byzantine choices, validators),
 * so that drawing one more number for a message does not move the schedule
 * of crashes and partitions. No rand(), no clock: a seed replays exactly.
 */
#include "hansa/assert.h"
#include "sim.h"

uint64_t sim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t st = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&st);
    /* xoshiro's one forbidden state; splitmix64 cannot give four zeros in a
     * row, but keep the invariant visible. */
    HANSA_ASSERT(r->s[0] | r->s[1] | r->s[2] | r->s[3]);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    HANSA_ASSERT(n > 0);
    /* Rejection sampling: no modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = sim_rng_next(r);
    while (x >= limit);
    return x % n;
}

uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
    HANSA_ASSERT(lo <= hi);
    if (hi - lo == UINT64_MAX)
        return sim_rng_next(r);
    return lo + sim_rng_below(r, hi - lo + 1);
}

bool sim_rng_chance(struct sim_rng *r, uint32_t per_mille)
{
    return sim_rng_below(r, 1000) < per_mille;
}
