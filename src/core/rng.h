/*
 * rng.h -- reproducible random streams keyed by (seed, key, substream, index): every patient of
 * a run has its own generator whatever the order, thread or rank in which patients are
 * simulated, and each use (covariates, mood noise, rater noise, belief noise) has its own
 * substream, so adding a draw to one use never shifts another.
 *
 * Construction: the four words (seed, key, substream, index) are hashed with the SplitMix64
 * finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014)
 * into a 64-bit stream id, which seeds the 256-bit state of xoshiro256** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", ACM TOMS 47(4):36, 2021) through four
 * SplitMix64 outputs, the seeding the authors recommend. Plain data: no allocation, no globals.
 */
#ifndef KS_RNG_H
#define KS_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Substreams of one patient (docs/MODEL.md section 12). */
enum {
    KS_RNG_COVARIATES = 0, /* covariates and between-patient variability */
    KS_RNG_MOOD_NOISE = 1, /* the Ornstein-Uhlenbeck mood noise path */
    KS_RNG_RATER = 2,      /* rater noise, index = visit (rating) number */
    KS_RNG_BELIEF = 3      /* belief noise, index = treatment session number */
};

typedef struct {
    uint64_t s[4];
    double spare; /* second normal deviate of the polar method */
    int has_spare;
} ks_rng;

/* Starts the stream (seed, key, substream, index). Streams with any word different are
 * statistically independent; the same words give the same sequence on every platform. */
void ks_rng_init(ks_rng *r, uint64_t seed, uint64_t key, uint64_t substream, uint64_t index);

/* Next 64 random bits (xoshiro256**). */
uint64_t ks_rng_u64(ks_rng *r);

/* Uniform on the open interval (0, 1): (k + 0.5) / 2^53 with k the top 53 bits. */
double ks_rng_uniform(ks_rng *r);

/* Standard normal deviate (Marsaglia & Bray 1964 polar method; the second deviate of each
 * accepted pair is kept for the next call). */
double ks_rng_normal(ks_rng *r);

/* Exact sample of an Ornstein-Uhlenbeck process dx = -x/tau dt + sigma sqrt(2/tau) dW
 * (stationary standard deviation sigma) on the grid t_k = k dt, k = 0..n-1:
 *   x_0 ~ N(0, sigma^2) (stationary start),
 *   x_{k+1} = x_k e^{-dt/tau} + sigma sqrt(1 - e^{-2 dt/tau}) z_k,  z_k ~ N(0, 1)
 * (the exact transition density, Gillespie 1996 Phys Rev E 54:2084, eq. 1.3). sigma = 0 gives
 * zeros without consuming draws. tau and dt must be > 0. */
void ks_rng_ou_path(ks_rng *r, double tau, double sigma, double dt, size_t n, double *x);

#endif /* KS_RNG_H */
