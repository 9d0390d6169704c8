/*
 * rng.c -- keyed xoshiro256** streams, uniform and normal deviates and exact
 * Ornstein-Uhlenbeck paths (contracts and references in rng.h).
 */
#include "core/rng.h"

#include <math.h>

/* SplitMix64 output function: golden-ratio increment, then the variant-13 finaliser
 * (Steele, Lea & Flood 2014; constants as in Vigna's reference splitmix64.c). */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void ks_rng_init(ks_rng *r, uint64_t seed, uint64_t key, uint64_t substream, uint64_t index)
{
    /* Chained hashing of the four words: each word is absorbed into the SplitMix64 state and
     * mixed before the next, so (a, b) and (b, a) give different streams. */
    uint64_t h = 0x6b65746173696d31ULL; /* domain constant */
    const uint64_t words[4] = {seed, key, substream, index};
    for (int i = 0; i < 4; i++) {
        h ^= words[i];
        h = splitmix64(&h);
    }
    uint64_t x = h;
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) {
        r->s[0] = 1; /* the all-zero state is the one fixed point of xoshiro */
    }
    r->spare = 0.0;
    r->has_spare = 0;
}

/* xoshiro256** 1.0 (Blackman & Vigna 2021). */
uint64_t ks_rng_u64(ks_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ks_rng_uniform(ks_rng *r)
{
    /* 53 random bits centred in their cell: never 0 nor 1. */
    return ((double)(ks_rng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}

double ks_rng_normal(ks_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Marsaglia & Bray, "A convenient method for generating normal variables", SIAM Rev 6:260,
     * 1964: (u, v) uniform in the unit disc, s = u^2 + v^2, then u sqrt(-2 ln s / s) and
     * v sqrt(-2 ln s / s) are independent N(0, 1). */
    double u, v, s;
    do {
        u = 2.0 * ks_rng_uniform(r) - 1.0;
        v = 2.0 * ks_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

void ks_rng_ou_path(ks_rng *r, double tau, double sigma, double dt, size_t n, double *x)
{
    if (n == 0) {
        return;
    }
    if (!(sigma > 0.0) || !(tau > 0.0) || !(dt > 0.0)) {
        for (size_t k = 0; k < n; k++) {
            x[k] = 0.0;
        }
        return;
    }
    /* Exact transition of the OU process over dt (Gillespie 1996, eq. 1.3). */
    const double a = exp(-dt / tau);
    const double b = sigma * sqrt(-expm1(-2.0 * dt / tau));
    x[0] = sigma * ks_rng_normal(r);
    for (size_t k = 1; k < n; k++) {
        x[k] = a * x[k - 1] + b * ks_rng_normal(r);
    }
}
